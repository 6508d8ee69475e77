#include "models/session/logprobs.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.h"

namespace kiln {

TokenLogprobs token_logprobs(std::span<const float> logits, int32_t chosen, int top_n) {
    if (chosen < 0 || static_cast<size_t>(chosen) >= logits.size()) {
        throw Error("token_logprobs: token " + std::to_string(chosen) + " is outside the " +
                    std::to_string(logits.size()) + " logits");
    }
    const float max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;  // double: a 150k-token vocabulary's sum keeps its digits
    for (const float l : logits) sum += std::exp(static_cast<double>(l) - max);
    const double log_z = max + std::log(sum);
    auto logprob = [&](int32_t id) { return static_cast<float>(logits[static_cast<size_t>(id)] - log_z); };

    TokenLogprobs out;
    out.chosen = {chosen, logprob(chosen)};
    const size_t n = std::min(static_cast<size_t>(std::max(top_n, 0)), logits.size());
    if (n == 0) return out;
    // A min-heap of the best n by (logit, -id): one pass, O(V log n).
    auto better = [&](int32_t a, int32_t b) {
        const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
        return la > lb || (la == lb && a < b);
    };
    std::vector<int32_t> heap;
    heap.reserve(n);
    for (int32_t id = 0; id < static_cast<int32_t>(logits.size()); ++id) {
        if (heap.size() < n) {
            heap.push_back(id);
            std::push_heap(heap.begin(), heap.end(), better);
        } else if (better(id, heap.front())) {
            std::pop_heap(heap.begin(), heap.end(), better);
            heap.back() = id;
            std::push_heap(heap.begin(), heap.end(), better);
        }
    }
    std::sort(heap.begin(), heap.end(), better);
    for (const int32_t id : heap) out.top.push_back({id, logprob(id)});
    return out;
}

}  // namespace kiln
