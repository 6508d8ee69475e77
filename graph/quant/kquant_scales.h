#pragma once
// Internal to graph/quant: the 12-byte packing of the 6-bit sub-block scales of Q3_K (16 values)
// and of Q4_K/Q5_K (8 scales + 8 mins). Shared by the K-quant dequantizers and quantizers.
#include <cstdint>

namespace kiln::quant {

// Q4_K/Q5_K: scale and min of sub-block j (0..7), 6 bits each.
inline void get_scale_min_k4(int j, const uint8_t* s, uint8_t* sc, uint8_t* mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = static_cast<uint8_t>((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
        *mn = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

inline void set_scale_min_k4(const uint8_t* sc, const uint8_t* mn, uint8_t* s) {
    for (int j = 0; j < 4; ++j) {
        s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
}

// Q3_K: the 16 unsigned 6-bit scale codes (the value used is code - 32).
inline void get_scales_q3_k(const uint8_t* s, uint8_t* out) {
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
        const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = static_cast<uint8_t>(low | (high << 4));
    }
}

inline void set_scales_q3_k(const uint8_t* codes, uint8_t* s) {
    for (int j = 0; j < 12; ++j) s[j] = 0;
    for (int j = 0; j < 16; ++j) {
        const int low = codes[j] & 15;
        const int high = (codes[j] >> 4) & 3;
        s[j % 8] = static_cast<uint8_t>(s[j % 8] | (j < 8 ? low : low << 4));
        s[8 + j % 4] = static_cast<uint8_t>(s[8 + j % 4] | (high << (2 * (j / 4))));
    }
}

}  // namespace kiln::quant
