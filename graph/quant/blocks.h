#pragma once
// Block layouts of the quantized GGUF dtypes, byte for byte as GGUF files (and ggml) store them.
// Scales named `d`/`dmin`/`m` are f16 bit patterns (see half.h) unless noted. All K-quants use
// super-blocks of 256 elements. Element order inside a block is spelled out per struct; the
// dequantizers in quant_legacy.cpp / dequant_k.cpp are the executable definition.
#include <cstdint>

namespace kiln {

inline constexpr int kQK = 32;    // elements per legacy block (Q4_0..Q8_0, IQ4_NL)
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

// Q4_0: y = d * (q - 8); q = 4 bits. qs[j] low nibble -> element j, high nibble -> element j+16.
struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[kQK / 2];
};

// Q4_1: y = d * q + m; q = 4 bits, nibbles as Q4_0.
struct BlockQ4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[kQK / 2];
};

// Q5_0: y = d * (q - 16); q = 5 bits: nibbles as Q4_0, bit 4 of element j is bit j of the
// little-endian u32 qh.
struct BlockQ5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};

// Q5_1: y = d * q + m; q = 5 bits packed as Q5_0.
struct BlockQ5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[kQK / 2];
};

// Q8_0: y = d * q; q = int8.
struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[kQK];
};

// IQ4_NL: y = d * kIQ4NLValues[q]; q = 4-bit index, nibbles as Q4_0.
struct BlockIQ4_NL {
    uint16_t d;
    uint8_t qs[kQK / 2];
};

// The non-linear IQ4_NL grid (fixed by the format).
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Q2_K: 16 sub-blocks of 16; y = d*(scales[s]&15)*q - dmin*(scales[s]>>4); q = 2 bits.
// Each 128-element half uses 32 bytes of qs: element 32*k + l of the half is bits 2k..2k+1 of
// qs[l] (l < 32); sub-block s covers elements 16s..16s+15.
struct BlockQ2_K {
    uint8_t scales[kQK_K / 16];
    uint8_t qs[kQK_K / 4];
    uint16_t d;
    uint16_t dmin;
};

// Q3_K: 16 sub-blocks of 16; y = d*(sc[s]-32)*(q-4); q = 3 bits: low 2 bits as Q2_K's qs, bit 2
// of element 32*k + l (k < 8) is bit k of hmask[l]. sc = 6 bits packed in 12 bytes: low nibble
// of scales[s] (s < 8) or high nibble of scales[s-8], top 2 bits from scales[8 + s%4] >> 2*(s/4).
struct BlockQ3_K {
    uint8_t hmask[kQK_K / 8];
    uint8_t qs[kQK_K / 4];
    uint8_t scales[12];
    uint16_t d;
};

// Q4_K: 8 sub-blocks of 32; y = d*sc[s]*q - dmin*mn[s]; q = 4 bits. Each 64-element chunk c
// uses qs[32c..32c+31]: low nibbles -> sub-block 2c, high nibbles -> 2c+1. sc/mn: 6 bits in
// 12 bytes (s < 4: scales[s], scales[s+4]; else low/high nibble of scales[s+4] with top bits
// from the top 2 bits of scales[s-4] / scales[s]).
struct BlockQ4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[kQK_K / 2];
};

// Q5_K: as Q4_K plus a 5th bit: bit 4 of element 32*s + l is bit s of qh[l].
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[kQK_K / 8];
    uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16; y = d*scales[s]*(q-32); q = 6 bits. Per 128-element half h:
// ql[64h + l] low/high nibble and ql[64h + 32 + l] low/high nibble give elements l, l+64 /
// l+32, l+96 (l < 32); the top 2 bits come from qh[32h + l] bits 0-1, 4-5 / 2-3, 6-7.
struct BlockQ6_K {
    uint8_t ql[kQK_K / 2];
    uint8_t qh[kQK_K / 4];
    int8_t scales[kQK_K / 16];
    uint16_t d;
};

// Q8_K (kiln-internal activations for K-quant dot products): y = d * q with f32 d, and
// bsums[g] = sum of qs[16g..16g+15].
struct BlockQ8_K {
    float d;
    int8_t qs[kQK_K];
    int16_t bsums[kQK_K / 16];
};

// Sizes fixed by the format; tests check these against info(DType).block_bytes.
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace kiln
