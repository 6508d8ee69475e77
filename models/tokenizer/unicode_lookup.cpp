// Lookup over the generated runs in unicode_data.cpp.
#include <algorithm>
#include <array>
#include <memory>

#include "models/tokenizer/unicode_data.h"

namespace kiln {
namespace unicode_detail {
extern const uint32_t kRuns[];
extern const uint32_t kRunCount;
}  // namespace unicode_detail

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr uint32_t kBmpSize = 0x10000;

uint8_t search_runs(uint32_t cp) {
    using unicode_detail::kRunCount;
    using unicode_detail::kRuns;
    // The last run starting at or before cp; runs[0] starts at 0, so there always is one.
    const uint32_t key = (cp << 8) | 0xFF;
    const uint32_t* run = std::upper_bound(kRuns, kRuns + kRunCount, key) - 1;
    return static_cast<uint8_t>(*run & 0xFF);
}

// Most text stays in the BMP, so it gets a flat table (64 KiB, built on first use).
const std::array<uint8_t, kBmpSize>& bmp_table() {
    static const std::unique_ptr<std::array<uint8_t, kBmpSize>> table = [] {
        auto t = std::make_unique<std::array<uint8_t, kBmpSize>>();
        for (uint32_t cp = 0; cp < kBmpSize; ++cp) (*t)[cp] = search_runs(cp);
        return t;
    }();
    return *table;
}

}  // namespace

uint8_t unicode_flags(uint32_t cp) {
    if (cp < kBmpSize) return bmp_table()[cp];
    if (cp > kMaxCodePoint) return static_cast<uint8_t>(UnicodeClass::Unassigned);
    return search_runs(cp);
}

}  // namespace kiln
