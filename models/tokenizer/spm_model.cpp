#include "models/tokenizer/spm_model.h"

#include <algorithm>
#include <cstring>

#include "graph/error.h"
#include "models/tokenizer/vocab.h"

namespace kiln {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// A piece of the text being merged; pieces form a linked list in text order.
struct Symbol {
    uint32_t start;
    uint32_t size;  // 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
    int32_t token;  // the vocab id of the piece's text when known
};

struct Bigram {
    uint64_t priority;  // score, then leftmost, packed so the heap compares one integer
    int32_t left;
    int32_t right;
    uint32_t size;  // left + right size when queued; a mismatch later means it is stale
    int32_t token;
};

// Heap order: highest score first, then leftmost. The float's bits are mapped so that unsigned
// order is float order (NaN is rejected at load), and the left index is inverted.
uint64_t merge_priority(float score, int32_t left) {
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    if (score == 0.0f) bits = 0x80000000u;  // -0 and +0 tie, as floats do
    return (uint64_t{bits} << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(left));
}

struct LowerPriority {
    bool operator()(const Bigram& a, const Bigram& b) const { return a.priority < b.priority; }
};

// Per-thread buffers, so encoding a stream of prompts does not reallocate for each.
struct Scratch {
    std::string text;
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;
};

// Byte length of the UTF-8 sequence a lead byte announces; stray continuation bytes count as
// one. Invalid input is not rejected: byte fallback keeps every byte.
uint32_t utf8_lead_length(uint8_t b) {
    if (b < 0xC0) return 1;
    if (b < 0xE0) return 2;
    if (b < 0xF0) return 3;
    return 4;
}

class Merger {
public:
    Merger(const Vocab& vocab, Scratch& s) : vocab_(vocab), text_(s.text), symbols_(s.symbols), heap_(s.heap) {}

    void run(std::vector<int32_t>& out) {
        split_characters();
        // Seed with every adjacent pair, heapified once.
        for (size_t i = 1; i < symbols_.size(); ++i) add_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
        std::make_heap(heap_.begin(), heap_.end(), LowerPriority{});
        while (!heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end(), LowerPriority{});
            const Bigram b = heap_.back();
            heap_.pop_back();
            Symbol& left = symbols_[b.left];
            Symbol& right = symbols_[b.right];
            if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;
            left.size += right.size;
            left.token = b.token;
            right.size = 0;
            left.next = right.next;
            if (right.next >= 0) symbols_[right.next].prev = b.left;
            queue_pair(left.prev, b.left);
            queue_pair(b.left, left.next);
        }
        for (int32_t i = symbols_.empty() ? -1 : 0; i >= 0; i = symbols_[i].next) emit(symbols_[i], out);
    }

private:
    std::string_view piece(uint32_t start, uint32_t size) const { return std::string_view(text_).substr(start, size); }

    void split_characters() {
        symbols_.clear();
        const auto n = static_cast<uint32_t>(text_.size());
        for (uint32_t at = 0; at < n;) {
            const uint32_t len = std::min(utf8_lead_length(static_cast<uint8_t>(text_[at])), n - at);
            const auto index = static_cast<int32_t>(symbols_.size());
            symbols_.push_back({at, len, index - 1, at + len == n ? -1 : index + 1, kNoToken});
            at += len;
        }
    }

    // Appends the pair when its merged text is a token; true if it did.
    bool add_pair(int32_t left, int32_t right) {
        if (left < 0 || right < 0) return false;
        const uint32_t size = symbols_[left].size + symbols_[right].size;
        const int32_t token = vocab_.find(piece(symbols_[left].start, size));
        if (token == kNoToken) return false;
        heap_.push_back({merge_priority(vocab_.score(token), left), left, right, size, token});
        return true;
    }

    void queue_pair(int32_t left, int32_t right) {
        if (add_pair(left, right)) std::push_heap(heap_.begin(), heap_.end(), LowerPriority{});
    }

    void emit(const Symbol& s, std::vector<int32_t>& out) const {
        const std::string_view text = piece(s.start, s.size);
        const int32_t token = s.token != kNoToken ? s.token : vocab_.find(text);
        if (token != kNoToken) {
            out.push_back(token);
            return;
        }
        bool all_bytes = true;
        for (char c : text) all_bytes = all_bytes && vocab_.byte_token(static_cast<uint8_t>(c)) != kNoToken;
        if (all_bytes) {
            for (char c : text) out.push_back(vocab_.byte_token(static_cast<uint8_t>(c)));
        } else if (vocab_.special().unk != kNoToken) {
            out.push_back(vocab_.special().unk);
        } else {
            static constexpr char kHex[] = "0123456789ABCDEF";
            const auto b = static_cast<uint8_t>(text[0]);
            throw Error(vocab_.file_name() + ": key 'tokenizer.ggml.tokens': no token for byte 0x" + kHex[b >> 4] +
                        kHex[b & 15] + " and no unknown token");
        }
    }

    const Vocab& vocab_;
    const std::string& text_;
    std::vector<Symbol>& symbols_;
    std::vector<Bigram>& heap_;
};

}  // namespace

void SpmModel::encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const {
    thread_local Scratch scratch;
    std::string& escaped = scratch.text;
    escaped.clear();
    if (after_special && vocab_.add_space_prefix()) escaped += kSpaceMark;
    for (char c : text) {
        if (c == ' ') escaped += kSpaceMark;
        else escaped += c;
    }
    scratch.heap.clear();
    Merger(vocab_, scratch).run(out);
}

void SpmModel::append_piece(int32_t id, bool render_special, std::string& out) const {
    if (append_non_text_piece(vocab_, id, render_special, out)) return;
    const std::string_view text = vocab_.text(id);
    for (size_t at = 0; at < text.size();) {
        if (text.compare(at, kSpaceMark.size(), kSpaceMark) == 0) {  // "▁" is a space
            out += ' ';
            at += kSpaceMark.size();
        } else {
            out += text[at++];
        }
    }
}

}  // namespace kiln
