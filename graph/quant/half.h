#pragma once
// Exact conversions between f32 and the two 16-bit float formats GGUF stores.
//   f16  (IEEE binary16): f32 -> f16 rounds to nearest, ties to even, with subnormals, overflow
//        to Inf and NaN -> quiet NaN, as x86 F16C (vcvtps2ph, imm 0) does.
//   bf16 (top half of an f32): f32 -> bf16 rounds to nearest, ties to even; NaN stays a quiet NaN.
// Widening (f16/bf16 -> f32) is exact; a signalling NaN comes back quiet.
#include <bit>
#include <cstdint>

namespace kiln {

constexpr float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) {  // Inf or NaN (quiet bit forced on for NaN)
        return std::bit_cast<float>(sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u));
    }
    if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (man << 13));
    if (man == 0) return std::bit_cast<float>(sign);
    uint32_t e = 113;  // subnormal: man * 2^-24, normalised
    while ((man & 0x400u) == 0) {
        man <<= 1;
        --e;
    }
    return std::bit_cast<float>(sign | (e << 23) | ((man & 0x3ffu) << 13));
}

constexpr uint16_t f32_to_f16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN
    if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: Inf
    const uint32_t e = ax >> 23;
    if (e < 113) {  // below 2^-14: f16 subnormal or zero, in units of 2^-24
        if (e < 102) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero
        const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;  // 14..24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal
        return static_cast<uint16_t>(sign | q);
    }
    uint32_t h = ((e - 112) << 10) | ((ax >> 13) & 0x3ffu);
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may reach the exponent
    return static_cast<uint16_t>(sign | h);
}

constexpr float bf16_to_f32(uint16_t b) {
    uint32_t x = static_cast<uint32_t>(b) << 16;
    if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x00400000u;  // quiet a signalling NaN
    return std::bit_cast<float>(x);
}

constexpr uint16_t f32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace kiln
