#include "models/grammar/grammar_filter.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "graph/error.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

GrammarVocab::GrammarVocab(const Tokenizer& tokenizer) {
    const Vocab& vocab = tokenizer.vocab();
    const int32_t n = vocab.size();
    offsets_.reserve(size_t(n) + 1);
    eog_.resize(size_t(n));
    offsets_.push_back(0);
    for (int32_t id = 0; id < n; ++id) {
        tokenizer.append_piece(id, false, text_);
        offsets_.push_back(uint32_t(text_.size()));
        eog_[size_t(id)] = vocab.is_eog(id) ? 1 : 0;
    }
    for (int32_t id = 0; id < n; ++id)
        if (!piece(id).empty() && !is_eog(id)) sorted_.push_back(id);
    std::sort(sorted_.begin(), sorted_.end(), [&](int32_t a, int32_t b) {
        const std::string_view pa = piece(a), pb = piece(b);
        return pa < pb || (pa == pb && a < b);
    });
    shared_.resize(sorted_.size());
    for (size_t i = 0; i < sorted_.size(); ++i) {
        const std::string_view p = piece(sorted_[i]);
        longest_ = std::max(longest_, p.size());
        if (i == 0) continue;
        const std::string_view q = piece(sorted_[i - 1]);
        shared_[i] = uint32_t(std::mismatch(p.begin(), p.end(), q.begin(), q.end()).first - p.begin());
    }
}

GrammarFilter::GrammarFilter(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const GrammarVocab> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)), matcher_(*grammar_) {
    prefix_.resize(vocab_->longest_piece() + 1);
    reset();
}

void GrammarFilter::reset() { matcher_.start(state_); }

bool GrammarFilter::allows(int32_t token) {
    if (token < 0 || token >= vocab_->size()) return false;
    if (vocab_->is_eog(token)) return can_end();
    const std::string_view p = vocab_->piece(token);
    if (p.empty()) return false;
    scratch_[0] = state_;
    return matcher_.advance(scratch_[0], p, scratch_[1]);
}

// Walks the tokens in text order. prefix_[d] is the state after the first d bytes of the
// current token; `valid` says how many of those are still right for it, `dead` the length of a
// refused prefix that the tokens in a row still share.
void GrammarFilter::restrict(std::span<float> logits) {
    constexpr float kBanned = -std::numeric_limits<float>::infinity();
    const GrammarVocab& v = *vocab_;
    std::vector<uint8_t>& allowed = allowed_;
    allowed.assign(size_t(v.size()), 0);
    const auto sorted = v.sorted();
    const auto shared = v.shared();
    prefix_[0] = state_;
    size_t valid = 0;
    size_t dead = std::numeric_limits<size_t>::max();
    for (size_t i = 0; i < sorted.size(); ++i) {
        const size_t common = i == 0 ? 0 : shared[i];
        valid = std::min(valid, common);
        if (common >= dead) continue;  // starts with a refused prefix
        dead = std::numeric_limits<size_t>::max();
        const std::string_view p = v.piece(sorted[i]);
        size_t d = valid;
        for (; d < p.size(); ++d) {
            if (!matcher_.advance(prefix_[d], uint8_t(p[d]), prefix_[d + 1])) {
                dead = d + 1;
                break;
            }
        }
        valid = d;
        if (d == p.size()) allowed[size_t(sorted[i])] = 1;
    }
    const bool end_ok = can_end();
    for (int32_t id = 0; id < v.size() && size_t(id) < logits.size(); ++id) {
        const bool ok = v.is_eog(id) ? end_ok : allowed[size_t(id)] != 0;
        if (!ok) logits[size_t(id)] = kBanned;
    }
}

void GrammarFilter::accept(int32_t token) {
    if (token >= 0 && token < vocab_->size() && vocab_->is_eog(token) && can_end()) return;
    if (!allows(token)) throw Error("grammar: token " + std::to_string(token) + " is not allowed here");
    std::swap(state_, scratch_[0]);  // allows() left the state after the token there
}

}  // namespace kiln
