#pragma once
// The merge table of a byte-level BPE vocabulary (`tokenizer.ggml.merges`, "left right" in rank
// order). Pieces are "symbols": a piece whose text is a token has that token's id as its
// symbol; the rare merge parts and results that are not tokens get ids past the vocabulary, so
// merging compares integers, never strings, and still merges exactly what llama.cpp's string
// table would.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

class GgufFile;
class Vocab;

class BpeMerges {
public:
    // Throws kiln::Error naming tokenizer.ggml.merges when it is missing, not a string array,
    // or holds an entry that is not two non-empty parts split by a space. Merges naming texts
    // that are not tokens are kept (llama.cpp keeps them; they only matter when they can form).
    // A repeated pair keeps its first (best) rank.
    static BpeMerges from_gguf(const GgufFile& file, const Vocab& vocab);
    // The same from merge strings (tests); `source` names the file in messages.
    static BpeMerges build(const Vocab& vocab, const std::vector<std::string_view>& merges, const std::string& source);

    struct Merge {
        int32_t rank = -1;  // -1: no such merge
        int32_t result = -1;
    };
    // The merge of adjacent symbols `left` `right`.
    Merge find(int32_t left, int32_t right) const {
        const uint64_t key = pair_key(left, right);
        for (size_t slot = slot_of(key);; slot = (slot + 1) & mask_) {
            const Entry& e = slots_[slot];
            if (e.rank < 0 || e.key == key) return {e.rank, e.result};
        }
    }

    // Symbol of the single character that stands for byte `b` (GPT-2's byte mapping).
    int32_t byte_symbol(uint8_t b) const { return byte_symbols_[b]; }
    // Symbols below this are token ids.
    int32_t n_tokens() const { return n_tokens_; }
    // Text of a symbol that is not a token (symbol >= n_tokens()).
    std::string_view extra_text(int32_t symbol) const { return extra_texts_[symbol - n_tokens_]; }
    size_t size() const { return count_; }

private:
    struct Entry {
        uint64_t key = 0;
        int32_t rank = -1;
        int32_t result = -1;
    };
    static uint64_t pair_key(int32_t left, int32_t right) {
        return (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
    }
    size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_; }

    int32_t intern(const Vocab& vocab, std::string_view text);
    void insert(int32_t left, int32_t right, int32_t rank, int32_t result);

    int32_t n_tokens_ = 0;
    std::array<int32_t, 256> byte_symbols_{};
    std::vector<std::string> extra_texts_;
    std::unordered_map<std::string, int32_t> extra_ids_;
    std::vector<Entry> slots_;  // open addressing, power-of-two size
    size_t mask_ = 0;
    unsigned shift_ = 0;
    size_t count_ = 0;
};

}  // namespace kiln
