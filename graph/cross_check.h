#pragma once
// How kiln decides that two computations of one tensor agree, for `kiln compare`, the op suite
// (tests/backend_ops) and the golden tests alike: the normalised mean squared error against a
// reference, the largest absolute difference, and NaN/Inf that must sit at the same positions
// with the same value. Thresholds come from graph/op_traits.h.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/tensor.h"

namespace kiln {

struct Agreement {
    // sum((got - want)^2) / sum(want^2) over the positions where both are finite (the plain sum
    // of squares when the reference is all zeros, so zero against zero is 0, not NaN).
    double nmse = 0;
    double max_abs = 0;  // largest |got - want| over the same positions
    // The first position where one side is NaN or Inf and the other is not the same NaN/Inf.
    std::optional<size_t> nonfinite_at;
    float got_at = 0, want_at = 0;  // the two values there
    std::optional<size_t> size_mismatch;  // got's length, when it differs from want's

    bool within(double max_nmse) const { return !size_mismatch && !nonfinite_at && nmse <= max_nmse; }
};

Agreement compare_values(std::span<const float> got, std::span<const float> want);

// compare_values(got, want).nmse: the number alone, for tests that bound it.
inline double nmse(std::span<const float> got, std::span<const float> want) { return compare_values(got, want).nmse; }

// One line for reports and test failures: "NMSE 1.2e-08 <= 1e-07, max |diff| 3.1e-05", or
// what makes the values disagree ("NaN/Inf at 17: nan where the reference has 1.5").
std::string agreement_text(const Agreement& a, double max_nmse);

// A tensor's elements as floats in logical order (ne0 fastest), from its bytes as stored
// (`bytes` starts at the tensor's first byte; any strides; any computable dtype, I32 converted).
std::vector<float> tensor_values(const Tensor& t, std::span<const uint8_t> bytes);

}  // namespace kiln
