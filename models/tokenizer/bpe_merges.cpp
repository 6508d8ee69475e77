#include "models/tokenizer/bpe_merges.h"

#include <bit>
#include <limits>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/byte_level.h"
#include "models/tokenizer/vocab.h"

namespace kiln {
namespace {

constexpr const char* kMergesKey = "tokenizer.ggml.merges";

[[noreturn]] void fail(const std::string& source, const std::string& what) {
    throw Error(source + ": key '" + kMergesKey + "': " + what);
}

}  // namespace

BpeMerges BpeMerges::from_gguf(const GgufFile& file, const Vocab& vocab) {
    const GgufArray* merges = file.get_array(kMergesKey, GgufType::STRING);  // throws on a wrong type
    if (!merges) fail(file.name(), "missing (byte-level BPE needs its merge list)");
    std::vector<std::string_view> texts;
    texts.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) texts.push_back(merges->string(i));
    return build(vocab, texts, file.name());
}

BpeMerges BpeMerges::build(const Vocab& vocab, const std::vector<std::string_view>& merges, const std::string& source) {
    // Each merge adds at most three symbols; their ids must stay within int32.
    const auto room = static_cast<size_t>(std::numeric_limits<int32_t>::max() - vocab.size() - 256);
    if (merges.size() > room / 3) fail(source, std::to_string(merges.size()) + " merges are too many");
    BpeMerges m;
    m.n_tokens_ = vocab.size();
    for (int b = 0; b < 256; ++b) m.byte_symbols_[b] = m.intern(vocab, byte_level_char(static_cast<uint8_t>(b)));

    const size_t capacity = std::bit_ceil(std::max<size_t>(16, 2 * merges.size()));
    m.slots_.assign(capacity, Entry{});
    m.mask_ = capacity - 1;
    m.shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));

    std::string joined;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string_view merge = merges[rank];
        // The first space after the first character separates the parts, as in llama.cpp.
        const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
        if (space == std::string_view::npos || space + 1 == merge.size()) {
            fail(source, "merge " + std::to_string(rank) + " " + quoted(merge) + " is not two texts separated by a space");
        }
        const std::string_view left = merge.substr(0, space);
        const std::string_view right = merge.substr(space + 1);
        joined.assign(left);
        joined += right;
        const int32_t l = m.intern(vocab, left);
        const int32_t r = m.intern(vocab, right);
        m.insert(l, r, static_cast<int32_t>(rank), m.intern(vocab, joined));
    }
    return m;
}

int32_t BpeMerges::intern(const Vocab& vocab, std::string_view text) {
    const int32_t id = vocab.find(text);
    if (id != kNoToken) return id;
    auto [it, added] = extra_ids_.try_emplace(std::string(text), n_tokens_ + static_cast<int32_t>(extra_texts_.size()));
    if (added) extra_texts_.emplace_back(text);
    return it->second;
}

void BpeMerges::insert(int32_t left, int32_t right, int32_t rank, int32_t result) {
    const uint64_t key = pair_key(left, right);
    for (size_t slot = slot_of(key);; slot = (slot + 1) & mask_) {
        Entry& e = slots_[slot];
        if (e.rank >= 0 && e.key == key) return;  // a repeat: the earlier rank stands
        if (e.rank < 0) {
            e = {key, rank, result};
            ++count_;
            return;
        }
    }
}

}  // namespace kiln
