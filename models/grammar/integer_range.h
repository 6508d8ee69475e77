#pragma once
// GBNF for the decimal integers in a range, digit by digit (no leading zeros), so a JSON
// schema's minimum / maximum hold by construction. Internal to json_schema.cpp; own file for its
// tests.
#include <cstdint>
#include <optional>
#include <string>

namespace kiln {

// Unbounded sides stop at this magnitude (15 digits).
constexpr int64_t kLargestGeneratedInteger = 999'999'999'999'999;

// A GBNF expression (alternatives, parenthesized) matching exactly the integers in [lo, hi];
// nullopt: that side is unbounded (then up to kLargestGeneratedInteger in magnitude).
// Requires lo <= hi when both are given.
std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

// The same for non-negative integers in [lo, hi] written as digits, lo <= hi, both >= 0.
std::string natural_range_gbnf(uint64_t lo, uint64_t hi);

}  // namespace kiln
