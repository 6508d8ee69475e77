// Exact conversions between f32 and the 16-bit float formats, on bit patterns, so every device
// rounds exactly as graph/quant/half.h does (Vulkan leaves the rounding of a float16_t
// conversion to the implementation):
//   f16:  round to nearest even, subnormals kept, overflow to Inf, NaN -> quiet NaN.
//   bf16: round to nearest even, NaN -> quiet NaN.
// Widening is exact (a signalling NaN comes back quiet).
#ifndef KILN_CONVERT16_GLSL
#define KILN_CONVERT16_GLSL

float kiln_f16_to_f32(uint h) {
    const uint sign = (h & 0x8000u) << 16;
    const uint e = (h >> 10) & 0x1fu;
    const uint man = h & 0x3ffu;
    if (e == 0x1fu) {  // Inf or NaN
        return uintBitsToFloat(sign | 0x7f800000u | (man << 13) | (man != 0u ? 0x00400000u : 0u));
    }
    if (e != 0u) return uintBitsToFloat(sign | ((e + 112u) << 23) | (man << 13));
    if (man == 0u) return uintBitsToFloat(sign);
    // Subnormal man * 2^-24: normalise so the leading bit lands on bit 10.
    const uint shift = 10u - uint(findMSB(man));
    return uintBitsToFloat(sign | ((113u - shift) << 23) | (((man << shift) & 0x3ffu) << 13));
}

uint kiln_f32_to_f16(float f) {
    const uint x = floatBitsToUint(f);
    const uint sign = (x >> 16) & 0x8000u;
    const uint ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);  // NaN
    if (ax >= 0x477ff000u) return sign | 0x7c00u;                         // >= 65520: Inf
    const uint e = ax >> 23;
    if (e < 113u) {  // below 2^-14: f16 subnormal or zero, in units of 2^-24
        if (e < 102u) return sign;
        const uint m = (ax & 0x7fffffu) | 0x800000u;
        const uint shift = 126u - e;  // 14..24
        uint q = m >> shift;
        const uint rem = m & ((1u << shift) - 1u);
        const uint half_way = 1u << (shift - 1u);
        if (rem > half_way || (rem == half_way && (q & 1u) != 0u)) ++q;  // may carry into the smallest normal
        return sign | q;
    }
    uint h = ((e - 112u) << 10) | ((ax >> 13) & 0x3ffu);
    const uint rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) ++h;  // a carry may reach the exponent
    return sign | h;
}

float kiln_bf16_to_f32(uint b) {
    uint x = b << 16;
    if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x00400000u;  // quiet a signalling NaN
    return uintBitsToFloat(x);
}

uint kiln_f32_to_bf16(float f) {
    const uint x = floatBitsToUint(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return ((x >> 16) | 0x40u) & 0xffffu;  // quiet NaN
    return ((x + 0x7fffu + ((x >> 16) & 1u)) >> 16) & 0xffffu;
}

#endif
