#pragma once
// Picks the next token from a row of logits. Flags and meanings follow llama.cpp's, so users'
// habits carry over. The chain, in llama.cpp's default order:
//
//   penalties -> top-k -> top-p -> min-p -> temperature -> draw
//
// - penalties: for each token among the last `penalty_last_n` accepted ones, seen c times:
//   repeat_penalty divides a positive logit and multiplies a non-positive one, then
//   logit -= c * frequency_penalty + presence_penalty (OpenAI's formulas).
// - top-k keeps the k highest logits; top-p then keeps the shortest highest-first prefix whose
//   probability reaches top_p; min-p then keeps tokens with p >= min_p * p_max. top-p and min-p
//   see probabilities at temperature 1, renormalized over what the earlier steps kept.
// - temperature scales the survivors' logits by 1/T and one token is drawn from their softmax.
// - temperature 0 is greedy: the argmax of the penalized logits, top-k/p and min-p ignored.
//
// Ties between equal logits always go to the lower token id, so results never depend on how a
// standard library sorts. Logits: -Inf bans a token; NaN is treated as -Inf; +Inf as the
// largest float. When every logit is -Inf or NaN, the result is token 0 (the argmax fallback:
// all tie, the lowest id wins).
//
// The random stream (xoshiro256**, seeded through splitmix64), the uniform-to-token code and the
// exp used for probabilities are kiln's own (no libm, no std:: distributions), so one seed gives
// the same tokens on every platform. After construction sample() and accept() never allocate.
// Cost: one vectorized pass over the logits with top-k on (about 30 us for 152k tokens); with
// top-k off, a few passes and no full sort (about 0.6 ms for 152k).
#include <cstdint>
#include <span>
#include <vector>

namespace kiln {

struct SamplerParams {
    // Seed value meaning "pick a random seed" (std::random_device), as -1 does for llama.cpp's
    // --seed. It is the default; Sampler::seed() reports the seed actually used.
    static constexpr uint64_t kRandomSeed = UINT64_MAX;
    // --repeat-last-n above this is refused: the history ring is allocated up front.
    static constexpr int kMaxPenaltyLastN = 1 << 24;

    float temperature = 0.8f;        // --temp: >= 0; 0 = greedy
    int top_k = 40;                  // --top-k: >= 0; 0 = off
    float top_p = 0.95f;             // --top-p: [0, 1]; 1 = off
    float min_p = 0.05f;             // --min-p: [0, 1]; 0 = off
    float repeat_penalty = 1.0f;     // --repeat-penalty: > 0; 1 = off
    float frequency_penalty = 0.0f;  // --frequency-penalty: finite; 0 = off
    float presence_penalty = 0.0f;   // --presence-penalty: finite; 0 = off
    int penalty_last_n = 64;         // --repeat-last-n: 0 = off, -1 = every token since reset()
    uint64_t seed = kRandomSeed;     // --seed

    // Throws kiln::Error naming the flag of the first out-of-range value.
    void validate() const;
    // True when some penalty would change a logit (and so history must be kept).
    bool penalties_active() const;
};

// A constraint on which token may come next (a grammar: models/grammar/grammar_filter.h).
class TokenFilter {
public:
    virtual ~TokenFilter() = default;
    // Whether `token` may come next.
    virtual bool allows(int32_t token) = 0;
    // Sets the logit of every token that may not come next to -Inf.
    virtual void restrict(std::span<float> logits) = 0;
};

class Sampler {
public:
    // What sample() returns when the filter allows no token at all.
    static constexpr int32_t kNoToken = -1;

    // Validates params (kiln::Error) and allocates every buffer sampling will need.
    Sampler(const SamplerParams& params, int32_t vocab_size);

    // One token id in [0, vocab_size). logits.size() must equal vocab_size (kiln::Error
    // otherwise: a wiring bug, caught before any out-of-bounds read). Does not record the token;
    // call accept() with whatever token is actually appended.
    int32_t sample(std::span<const float> logits);
    // The same, among the tokens `filter` allows (nullptr: all): the top-k candidates are
    // checked first (filter->allows) and the whole vocabulary restricted only when none of them
    // is allowed or top-k is off. Greedy picks the best allowed token. kNoToken when nothing is
    // allowed. May allocate (the restricted copy of the logits, the filter's own work).
    int32_t sample(std::span<const float> logits, TokenFilter* filter);

    // Records a token of the context for the penalties (prompt tokens too, if they should count).
    // Ids outside [0, vocab_size) are ignored: per-token work never throws.
    void accept(int32_t token);

    // Forgets the history and restarts the random stream from seed(), so a reset sampler replays
    // the same tokens for the same logits.
    void reset();

    const SamplerParams& params() const { return params_; }
    uint64_t seed() const { return seed_; }
    int32_t vocab_size() const { return vocab_size_; }

    static constexpr size_t kBuckets = 1024;  // top-p without top-k (see sampler.cpp)

private:
    struct Candidate {
        int32_t id;
        float logit;
    };

    int32_t sample_restricted(const float* logits, TokenFilter& filter);
    float penalized(int32_t token, float logit) const;
    bool seen(size_t token) const;
    float effective(size_t token, const float* logits) const;
    int32_t greedy(const float* logits) const;
    size_t gather(const float* logits, bool& sorted);
    size_t keep_top_p(size_t n, float best, bool sorted);
    size_t top_p_sorted(size_t n, float best);
    size_t top_p_unsorted(size_t n, float best);
    size_t keep_min_p(size_t n, float best, bool sorted);
    int32_t draw(size_t n, float best);
    void forget_oldest();
    void seed_rng();
    uint64_t next_u64();

    SamplerParams params_;
    int32_t vocab_size_;
    uint64_t seed_;
    uint64_t rng_[4];
    bool keep_history_;

    std::vector<Candidate> candidates_;  // top-k heap, then the surviving candidates
    std::vector<float> weights_;         // unnormalized probabilities of the candidates
    std::vector<float> restricted_;      // logits with a filter's disallowed tokens at -Inf
    // Top-p without top-k: each candidate's bucket, each bucket's mass, and the candidates of
    // the bucket where the cut falls.
    std::vector<uint16_t> buckets_;
    std::vector<double> bucket_mass_;
    std::vector<Candidate> spill_;

    // History: a ring of the last penalty_last_n tokens (none when -1: nothing is forgotten),
    // per-token counts, and the distinct tokens seen with each one's index in that list, so
    // penalties cost O(distinct tokens), not O(vocab).
    std::vector<int32_t> ring_;
    size_t ring_head_ = 0;  // oldest entry
    size_t ring_size_ = 0;
    std::vector<int32_t> counts_;
    std::vector<int32_t> seen_;
    std::vector<int32_t> seen_index_;
};

}  // namespace kiln
