#pragma once
// A grammar applied to tokens: which tokens may come next, and following the chosen ones.
//
// GrammarVocab holds what that needs from a tokenizer, built once per model and shared (it is
// read-only): each token's text, and the tokens sorted by text with the length each shares with
// the one before, so restricting the whole vocabulary walks it like a trie (a prefix the grammar
// refuses skips every token that starts with it, a shared prefix is matched once).
//
// Tokens with no text (control tokens) are never allowed; end-of-generation tokens only when
// the text so far completes the grammar.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "models/grammar/grammar.h"
#include "models/grammar/grammar_matcher.h"
#include "models/session/sampler.h"

namespace kiln {

class Tokenizer;

class GrammarVocab {
public:
    explicit GrammarVocab(const Tokenizer& tokenizer);

    int32_t size() const { return int32_t(eog_.size()); }
    std::string_view piece(int32_t id) const {
        return std::string_view(text_).substr(offsets_[size_t(id)], offsets_[size_t(id) + 1] - offsets_[size_t(id)]);
    }
    bool is_eog(int32_t id) const { return eog_[size_t(id)] != 0; }
    // Tokens with text, sorted by it; shared[i]: bytes sorted[i] has in common with sorted[i - 1].
    std::span<const int32_t> sorted() const { return sorted_; }
    std::span<const uint32_t> shared() const { return shared_; }
    size_t longest_piece() const { return longest_; }

private:
    std::string text_;
    std::vector<uint32_t> offsets_;
    std::vector<uint8_t> eog_;
    std::vector<int32_t> sorted_;
    std::vector<uint32_t> shared_;
    size_t longest_ = 0;
};

class GrammarFilter final : public TokenFilter {
public:
    GrammarFilter(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const GrammarVocab> vocab);

    bool allows(int32_t token) override;
    void restrict(std::span<float> logits) override;

    // Follows a chosen token. Throws kiln::Error when the grammar does not allow it (a caller
    // that sampled through this filter never sees that).
    void accept(int32_t token);
    // The text so far is a complete sentence of the grammar / nothing else may follow.
    bool can_end() const { return GrammarMatcher::can_end(state_); }
    bool must_end() const { return matcher_.must_end(state_); }
    // Back to the start of the grammar.
    void reset();

private:
    std::shared_ptr<const Grammar> grammar_;
    std::shared_ptr<const GrammarVocab> vocab_;
    GrammarMatcher matcher_;
    GrammarState state_;
    GrammarState scratch_[2];
    std::vector<GrammarState> prefix_;  // restrict(): the state after each byte of a prefix
    std::vector<uint8_t> allowed_;      // restrict(): per token
};

}  // namespace kiln
