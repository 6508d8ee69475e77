#include "models/session/sampler.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>

#include "graph/error.h"

namespace kiln {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Top-p without top-k buckets logits by their distance below the best: 1/32 nat wide, the last
// one catching everything from 32 nats (probability ratio 1e-14) down, -Inf included.

constexpr float kBucketsPerNat = 32.0f;

// exp(-gap) for gap in [0, +Inf] (never NaN): the probability of a logit `gap` below the best,
// relative to the best's. kiln's own, from + - * and bit operations: no libm, so every platform
// computes the same weights and draws the same tokens, and loops over it vectorize (so no
// branches and no std::min here). Relative error < 4e-6 (float rounding of gap * log2(e)),
// exactly 0 from 87 on (so -Inf, banned, weighs exactly 0).
float weight(float gap) {
    // exp(-gap) = 2^-t, t = gap * log2(e) = k + f with k = round(t), f in [-0.5, 0.5]:
    // 2^-k from the exponent bits, 2^-f = e^y with y = -f * ln 2 in [-0.35, 0.35], where a
    // degree-6 Taylor series is good to 2e-7.
    constexpr float kTwo23 = 8388608.0f;  // adding it leaves round(t) in a float's low bits
    const float t = gap * 1.44269504f;
    const float rounded = t + kTwo23;
    const uint32_t k = std::bit_cast<uint32_t>(rounded) - std::bit_cast<uint32_t>(kTwo23);
    const float y = ((rounded - kTwo23) - t) * 0.693147181f;
    float p = 1.0f / 720;
    p = p * y + 1.0f / 120;
    p = p * y + 1.0f / 24;
    p = p * y + 1.0f / 6;
    p = p * y + 0.5f;
    p = p * y + 1.0f;
    p = p * y + 1.0f;
    const float two_to_minus_k = std::bit_cast<float>((127u - k) << 23);  // garbage past 87: masked
    const uint32_t keep = gap < 87.0f ? 0xFFFFFFFFu : 0u;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(p * two_to_minus_k) & keep);
}

uint16_t bucket_of(float gap) {  // branch-free: gap may be +Inf, never NaN
    return uint16_t(std::min(gap * kBucketsPerNat, float(Sampler::kBuckets - 1)));
}

std::string show(float v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// NaN -> -Inf (never chosen), +Inf -> FLT_MAX (so max subtraction stays finite).
float sanitize(float v) {
    if (v != v) return kNegInf;
    return std::min(v, FLT_MAX);
}

// The one total order used everywhere: higher logit first, then lower id.
bool ranks_before(const auto& a, const auto& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void SamplerParams::validate() const {
    if (!(temperature >= 0.0f) || !std::isfinite(temperature))
        throw Error("--temp " + show(temperature) + " must be a finite number >= 0 (0 = greedy)");
    if (top_k < 0) throw Error("--top-k " + std::to_string(top_k) + " must be >= 0 (0 = off)");
    if (!(top_p >= 0.0f && top_p <= 1.0f))
        throw Error("--top-p " + show(top_p) + " is outside [0, 1]");
    if (!(min_p >= 0.0f && min_p <= 1.0f))
        throw Error("--min-p " + show(min_p) + " is outside [0, 1]");
    if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty))
        throw Error("--repeat-penalty " + show(repeat_penalty) + " must be a finite number > 0 (1 = off)");
    if (!std::isfinite(frequency_penalty))
        throw Error("--frequency-penalty " + show(frequency_penalty) + " must be finite");
    if (!std::isfinite(presence_penalty))
        throw Error("--presence-penalty " + show(presence_penalty) + " must be finite");
    if (penalty_last_n < -1 || penalty_last_n > kMaxPenaltyLastN)
        throw Error("--repeat-last-n " + std::to_string(penalty_last_n) + " is outside [-1, " +
                    std::to_string(kMaxPenaltyLastN) + "] (-1 = whole context, 0 = off)");
}

bool SamplerParams::penalties_active() const {
    return penalty_last_n != 0 &&
           (repeat_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f);
}

Sampler::Sampler(const SamplerParams& params, int32_t vocab_size)
    : params_(params), vocab_size_(vocab_size), seed_(params.seed) {
    params_.validate();
    if (vocab_size <= 0)
        throw Error("sampler: vocabulary size " + std::to_string(vocab_size) + " must be > 0");
    if (seed_ == SamplerParams::kRandomSeed) {
        std::random_device device;
        do {
            seed_ = (uint64_t(device()) << 32) ^ device();
        } while (seed_ == SamplerParams::kRandomSeed);
    }
    seed_rng();

    const size_t n = size_t(vocab_size);
    const bool top_k_on = params_.top_k > 0 && size_t(params_.top_k) < n;
    candidates_.resize(top_k_on ? size_t(params_.top_k) : n);
    weights_.resize(candidates_.size());
    if (!top_k_on && params_.top_p < 1.0f) {
        spill_.resize(n);
        buckets_.resize(n);
        bucket_mass_.resize(kBuckets);
    }

    keep_history_ = params_.penalties_active();
    if (keep_history_) {
        counts_.assign(n, 0);
        seen_index_.resize(n);
        const bool whole = params_.penalty_last_n < 0;
        if (!whole) ring_.resize(size_t(params_.penalty_last_n));
        seen_.reserve(whole ? n : std::min(n, ring_.size()));
    }
}

int32_t Sampler::sample(std::span<const float> logits) {
    if (logits.size() != size_t(vocab_size_))
        throw Error("sampler: got " + std::to_string(logits.size()) + " logits for a vocabulary of " +
                    std::to_string(vocab_size_));
    const float* x = logits.data();
    if (params_.temperature <= 0.0f) return greedy(x);

    bool sorted = false;
    size_t n = gather(x, sorted);
    float best = sorted ? candidates_[0].logit : kNegInf;
    if (!sorted)
        for (size_t i = 0; i < n; ++i) best = std::max(best, candidates_[i].logit);
    if (best == kNegInf) return greedy(x);  // everything banned: token 0, deterministically
    // The best candidate survives every step, so its logit is the max throughout.
    n = keep_top_p(n, best, sorted);
    n = keep_min_p(n, best, sorted);
    return draw(n, best);
}

int32_t Sampler::sample(std::span<const float> logits, TokenFilter* filter) {
    if (filter == nullptr) return sample(logits);
    if (logits.size() != size_t(vocab_size_))
        throw Error("sampler: got " + std::to_string(logits.size()) + " logits for a vocabulary of " +
                    std::to_string(vocab_size_));
    const float* x = logits.data();
    if (params_.temperature <= 0.0f) {
        const int32_t id = greedy(x);
        return filter->allows(id) ? id : sample_restricted(x, *filter);
    }
    bool sorted = false;
    size_t n = gather(x, sorted);
    if (!sorted) return sample_restricted(x, *filter);  // top-k off: every token is a candidate
    size_t kept = 0;  // the allowed top-k candidates, still in rank order
    for (size_t i = 0; i < n; ++i)
        if (candidates_[i].logit != kNegInf && filter->allows(candidates_[i].id)) candidates_[kept++] = candidates_[i];
    if (kept == 0) return sample_restricted(x, *filter);
    const float best = candidates_[0].logit;
    n = keep_top_p(kept, best, true);
    n = keep_min_p(n, best, true);
    return draw(n, best);
}

// Every token the filter refuses is banned, then the usual chain runs on what is left.
int32_t Sampler::sample_restricted(const float* logits, TokenFilter& filter) {
    restricted_.assign(logits, logits + vocab_size_);
    filter.restrict(restricted_);
    bool any = false;
    for (float v : restricted_) any |= v > kNegInf;  // NaN compares false: not a choice
    if (!any) return kNoToken;
    return sample(restricted_);
}

void Sampler::accept(int32_t token) {
    if (!keep_history_ || token < 0 || token >= vocab_size_) return;
    if (!ring_.empty()) {
        if (ring_size_ == ring_.size()) forget_oldest();
        ring_[(ring_head_ + ring_size_) % ring_.size()] = token;
        ++ring_size_;
    }
    if (counts_[size_t(token)]++ == 0) {
        seen_index_[size_t(token)] = int32_t(seen_.size());
        seen_.push_back(token);  // within the capacity reserved up front
    }
}

void Sampler::reset() {
    for (int32_t t : seen_) counts_[size_t(t)] = 0;
    seen_.clear();
    ring_head_ = 0;
    ring_size_ = 0;
    seed_rng();
}

void Sampler::forget_oldest() {
    const int32_t t = ring_[ring_head_];
    ring_head_ = (ring_head_ + 1) % ring_.size();
    --ring_size_;
    if (--counts_[size_t(t)] == 0) {
        // Swap-remove from the distinct list.
        const int32_t at = seen_index_[size_t(t)];
        const int32_t last = seen_.back();
        seen_[size_t(at)] = last;
        seen_index_[size_t(last)] = at;
        seen_.pop_back();
    }
}

// A recently seen token's logit after penalties. Non-finite logits pass through: banned stays
// banned, NaN and +Inf are sanitized by the caller.
float Sampler::penalized(int32_t token, float logit) const {
    if (!std::isfinite(logit)) return logit;
    const float count = float(counts_[size_t(token)]);
    float v = logit <= 0.0f ? logit * params_.repeat_penalty : logit / params_.repeat_penalty;
    v -= count * params_.frequency_penalty + params_.presence_penalty;
    return std::clamp(v, -FLT_MAX, FLT_MAX);  // a finite logit stays finite
}

bool Sampler::seen(size_t token) const { return keep_history_ && counts_[token] != 0; }

float Sampler::effective(size_t token, const float* logits) const {
    const float v = logits[token];
    return sanitize(seen(token) ? penalized(int32_t(token), v) : v);
}

namespace {

// Calls on_above(i) for each i in [begin, end) with x[i] > threshold, which on_above may raise.
// Whole chunks below the threshold (most of them, once it has risen) cost one vectorized
// compare per logit. NaN never compares above.
template <typename OnAbove>
void scan_above(const float* x, size_t begin, size_t end, const float& threshold, OnAbove on_above) {
    constexpr size_t kChunk = 64;
    size_t i = begin;
    for (; i + kChunk <= end; i += kChunk) {
        const float t = threshold;
        int above = 0;  // a count, not a bool: compilers vectorize integer sums
        for (size_t j = 0; j < kChunk; ++j) above += x[i + j] > t ? 1 : 0;
        if (above == 0) continue;
        for (size_t j = i; j < i + kChunk; ++j)
            if (x[j] > threshold) on_above(j);
    }
    for (; i < end; ++i)
        if (x[i] > threshold) on_above(i);
}

}  // namespace

// Penalties touch only the few seen tokens, so the caller's row is scanned as is, seen tokens
// skipped, and then the seen tokens are offered with their penalized logits.
int32_t Sampler::greedy(const float* logits) const {
    Candidate best{0, effective(0, logits)};
    scan_above(logits, 1, size_t(vocab_size_), best.logit, [&](size_t i) {
        const float v = std::min(logits[i], FLT_MAX);
        if (v > best.logit && !seen(i)) best = {int32_t(i), v};  // equal: the lower id stays
    });
    for (int32_t t : seen_) {
        const Candidate c{t, effective(size_t(t), logits)};
        if (ranks_before(c, best)) best = c;
    }
    return best.id;
}

// Fills candidates_ with the top-k (sorted, via a size-k heap) or, with top-k off, with every
// token in id order.
size_t Sampler::gather(const float* logits, bool& sorted) {
    const size_t n = size_t(vocab_size_);
    const size_t k = candidates_.size();
    Candidate* c = candidates_.data();
    if (k == n) {
        for (size_t i = 0; i < n; ++i) c[i] = {int32_t(i), sanitize(logits[i])};
        for (int32_t t : seen_) c[t].logit = effective(size_t(t), logits);
        sorted = false;
        return n;
    }
    auto cmp = [](const Candidate& a, const Candidate& b) { return ranks_before(a, b); };
    auto offer = [&](const Candidate& x) {
        if (!ranks_before(x, c[0])) return;
        std::pop_heap(c, c + k, cmp);
        c[k - 1] = x;
        std::push_heap(c, c + k, cmp);
    };
    for (size_t i = 0; i < k; ++i) c[i] = {int32_t(i), effective(i, logits)};
    std::make_heap(c, c + k, cmp);  // c[0] is the worst kept candidate
    scan_above(logits, k, n, c[0].logit, [&](size_t i) {
        if (!seen(i)) offer({int32_t(i), std::min(logits[i], FLT_MAX)});
    });
    for (int32_t t : seen_)
        if (size_t(t) >= k) offer({t, effective(size_t(t), logits)});
    std::sort(c, c + k, cmp);
    sorted = true;
    return k;
}

// Keeps the shortest highest-first prefix whose probability reaches top_p.
size_t Sampler::keep_top_p(size_t n, float best, bool sorted) {
    if (params_.top_p >= 1.0f) return n;
    return sorted ? top_p_sorted(n, best) : top_p_unsorted(n, best);
}

size_t Sampler::top_p_sorted(size_t n, float best) {
    const Candidate* c = candidates_.data();
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += weights_[i] = weight(best - c[i].logit);
    const double target = double(params_.top_p) * total;
    double mass = 0.0;
    for (size_t i = 0; i < n; ++i) {
        mass += weights_[i];
        if (mass >= target) return i + 1;
    }
    return n;  // rounding kept the mass just short of the target: keep everything
}

// Without top-k the whole vocabulary is a candidate and sorting it costs milliseconds. Instead,
// bucket the candidates by how far their logit is below the best (buckets are ordered like the
// logits), find the bucket where the running mass reaches the target, and sort only that one.
// Survivors come out in id order, then the boundary bucket's in rank order: deterministic.
size_t Sampler::top_p_unsorted(size_t n, float best) {
    Candidate* c = candidates_.data();
    float* w = weights_.data();
    uint16_t* bucket = buckets_.data();
    for (size_t i = 0; i < n; ++i) {  // vectorizes
        const float gap = best - c[i].logit;
        w[i] = weight(gap);
        bucket[i] = bucket_of(gap);
    }
    std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
    for (size_t i = 0; i < n; ++i) bucket_mass_[bucket[i]] += w[i];
    double total = 0.0;
    for (double m : bucket_mass_) total += m;
    const double target = double(params_.top_p) * total;
    double mass = 0.0;
    size_t boundary = 0;
    while (boundary < kBuckets && mass + bucket_mass_[boundary] < target) mass += bucket_mass_[boundary++];
    if (boundary == kBuckets) return n;  // rounding: the target is never reached

    size_t kept = 0, spilled = 0;
    for (size_t i = 0; i < n; ++i) {
        // Branch-free: measured faster than branching on which side a token falls.
        const size_t b = bucket[i];
        const Candidate x = c[i];
        c[kept] = x;
        spill_[spilled] = x;
        kept += b < boundary;
        spilled += b == boundary;
    }
    Candidate* s = spill_.data();
    std::sort(s, s + spilled, [](const Candidate& a, const Candidate& b) { return ranks_before(a, b); });
    size_t taken = spilled;
    for (size_t i = 0; i < spilled; ++i) {
        mass += weight(best - s[i].logit);
        if (mass >= target) {
            taken = i + 1;
            break;
        }
    }
    std::copy(s, s + taken, c + kept);
    return kept + taken;
}

// Keeps tokens with p >= min_p * p_max, compared as logits: logit >= max + log(min_p).
size_t Sampler::keep_min_p(size_t n, float best, bool sorted) {
    if (params_.min_p <= 0.0f) return n;
    Candidate* c = candidates_.data();
    const double cutoff = double(best) + std::log(double(params_.min_p));
    if (sorted) {
        size_t kept = 1;  // c[0] is the max, always kept
        while (kept < n && double(c[kept].logit) >= cutoff) ++kept;
        return kept;
    }
    size_t kept = 0;  // stable compaction keeps id order (and so determinism)
    for (size_t i = 0; i < n; ++i)
        if (double(c[i].logit) >= cutoff) c[kept++] = c[i];
    return kept;
}

// Applies the temperature and draws one of the n candidates from their softmax.
int32_t Sampler::draw(size_t n, float best) {
    const Candidate* c = candidates_.data();
    const double inv_t = 1.0 / double(params_.temperature);  // finite: temperature is a float > 0
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) {
        weights_[i] = weight(float(double(best - c[i].logit) * inv_t));
        total += weights_[i];
    }
    // 53 random bits -> [0, 1), scaled to the unnormalized mass.
    const double target = double(next_u64() >> 11) * 0x1.0p-53 * total;
    double mass = 0.0;
    size_t last_positive = 0;
    for (size_t i = 0; i < n; ++i) {
        if (weights_[i] <= 0.0) continue;
        mass += weights_[i];
        last_positive = i;
        if (target < mass) return c[i].id;
    }
    return c[last_positive].id;  // rounding left target at the very top
}

void Sampler::seed_rng() {
    uint64_t state = seed_;
    for (uint64_t& word : rng_) word = splitmix64(state);
}

// xoshiro256** (Blackman and Vigna): small, fast, and the same on every platform.
uint64_t Sampler::next_u64() {
    const uint64_t result = rotl(rng_[1] * 5, 7) * 9;
    const uint64_t t = rng_[1] << 17;
    rng_[2] ^= rng_[0];
    rng_[3] ^= rng_[1];
    rng_[1] ^= rng_[2];
    rng_[0] ^= rng_[3];
    rng_[2] ^= t;
    rng_[3] = rotl(rng_[3], 45);
    return result;
}

}  // namespace kiln
