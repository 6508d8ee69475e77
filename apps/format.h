#pragma once
// Number and column formatting shared by the commands' text output.
#include <cstdint>
#include <string>

#include "graph/byte_size.h"  // human_bytes

namespace kiln {

struct GenerateStats;

// A long job's progress, reported once per tenth: update() returns the percentage to print when
// `done` of `total` reaches a new tenth, else -1.
class TenthsProgress {
public:
    int update(uint64_t done, uint64_t total);

private:
    uint64_t next_tenth_ = 1;
};

std::string with_commas(uint64_t n);            // 1185376 -> "1,185,376"
std::string human_count(uint64_t n);            // 292800 -> "292.80 K"
std::string format_number(float v);             // shortest text that reads back as v
std::string pad_right(std::string s, size_t width);  // at least one space after s
// "prompt 5 tokens, 812.40 tokens/s | generation 48 tokens, 301.22 tokens/s | stop: token limit"
std::string format_timings(const GenerateStats& s);

}  // namespace kiln
