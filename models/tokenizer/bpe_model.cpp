#include "models/tokenizer/bpe_model.h"

#include <algorithm>
#include <functional>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/byte_level.h"
#include "models/tokenizer/vocab.h"

namespace kiln {
namespace {

// A piece of the word being merged; pieces form a linked list in text order.
struct Piece {
    int32_t symbol;  // -1 once merged into its left neighbour
    int32_t prev;
    int32_t next;
};

struct Candidate {
    uint64_t priority;  // rank, then left index: the heap takes the lowest
    int32_t right;
    int32_t left_symbol;  // the pair as queued; a piece that changed since makes it stale
    int32_t right_symbol;
    int32_t result;  // the merged symbol
    int32_t left() const { return static_cast<int32_t>(priority & 0xFFFFFFFFu); }
};

struct LaterCandidate {
    bool operator()(const Candidate& a, const Candidate& b) const { return a.priority > b.priority; }
};

// Per-thread buffers, so encoding a stream of prompts does not reallocate for each.
struct Scratch {
    std::vector<uint32_t> code_points;
    std::vector<uint32_t> word_ends;
    std::string word;
    std::string spelled;
    std::vector<Piece> pieces;
    std::vector<Candidate> heap;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

}  // namespace

std::shared_ptr<const BpeModel> BpeModel::from_gguf(const GgufFile& file, const Vocab& vocab) {
    const PreTokenizer* pre = find_pre_tokenizer(vocab.pre());
    if (!pre) {
        throw Error(file.name() + ": key 'tokenizer.ggml.pre': pre-tokenizer " + kiln::quoted(vocab.pre()) +
                    " is not supported (kiln knows gpt-2, llama-bpe, qwen2, deepseek-llm, deepseek-coder, falcon, "
                    "starcoder, refact, mpt, default and their aliases)");
    }
    return std::make_shared<const BpeModel>(vocab, *pre, BpeMerges::from_gguf(file, vocab));
}

BpeModel::BpeModel(const Vocab& vocab, const PreTokenizer& pre, BpeMerges merges)
    : vocab_(vocab), pre_(pre), merges_(std::move(merges)) {}

void BpeModel::encode_text(std::string_view text, bool /*after_special*/, std::vector<int32_t>& out) const {
    Scratch& s = scratch();
    // Words are cut on code points and rebuilt from them, so malformed UTF-8 reaches the merges
    // as U+FFFD, exactly as in llama.cpp.
    decode_utf8_lenient(text, s.code_points);
    pre_tokenize(pre_, s.code_points, s.word_ends);
    uint32_t begin = 0;
    for (uint32_t end : s.word_ends) {
        s.word.clear();
        for (uint32_t i = begin; i < end; ++i) append_utf8(s.word, s.code_points[i]);
        encode_word(s.word, out);
        begin = end;
    }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    Scratch& s = scratch();
    if (pre_.ignore_merges) {
        // Llama 3: a word that is a token as a whole is that token, whatever the merges say.
        s.spelled.clear();
        for (char c : word) s.spelled += byte_level_char(static_cast<uint8_t>(c));
        if (const int32_t id = vocab_.find(s.spelled); id != kNoToken) {
            out.push_back(id);
            return;
        }
    }

    std::vector<Piece>& pieces = s.pieces;
    std::vector<Candidate>& heap = s.heap;
    pieces.clear();
    heap.clear();
    const auto n = static_cast<int32_t>(word.size());
    for (int32_t i = 0; i < n; ++i) {
        pieces.push_back({merges_.byte_symbol(static_cast<uint8_t>(word[i])), i - 1, i + 1 == n ? -1 : i + 1});
    }
    auto queue = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return false;
        const BpeMerges::Merge m = merges_.find(pieces[left].symbol, pieces[right].symbol);
        if (m.rank < 0) return false;
        const uint64_t priority = (uint64_t{static_cast<uint32_t>(m.rank)} << 32) | static_cast<uint32_t>(left);
        heap.push_back({priority, right, pieces[left].symbol, pieces[right].symbol, m.result});
        return true;
    };
    for (int32_t i = 1; i < n; ++i) queue(i - 1, i);
    std::make_heap(heap.begin(), heap.end(), LaterCandidate{});

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), LaterCandidate{});
        const Candidate c = heap.back();
        heap.pop_back();
        Piece& left = pieces[c.left()];
        Piece& right = pieces[c.right];
        if (left.symbol != c.left_symbol || right.symbol != c.right_symbol || left.next != c.right) continue;
        left.symbol = c.result;
        left.next = right.next;
        right.symbol = -1;
        if (right.next >= 0) pieces[right.next].prev = c.left();
        if (queue(left.prev, c.left())) std::push_heap(heap.begin(), heap.end(), LaterCandidate{});
        if (queue(c.left(), left.next)) std::push_heap(heap.begin(), heap.end(), LaterCandidate{});
    }
    for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = pieces[i].next) emit_symbol(pieces[i].symbol, out);
}

void BpeModel::emit_symbol(int32_t symbol, std::vector<int32_t>& out) const {
    if (symbol < merges_.n_tokens()) {
        out.push_back(symbol);
        return;
    }
    // Not a token: llama.cpp looks up each byte of the piece's text as a one-byte token and
    // drops the bytes that are none.
    for (char c : merges_.extra_text(symbol)) {
        if (const int32_t id = vocab_.find(std::string_view(&c, 1)); id != kNoToken) out.push_back(id);
    }
}

void BpeModel::append_piece(int32_t id, bool render_special, std::string& out) const {
    if (!append_non_text_piece(vocab_, id, render_special, out)) append_byte_level_decoded(vocab_.text(id), out);
}

}  // namespace kiln
