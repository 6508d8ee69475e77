// Flash attention with an online softmax: keys are scored a tile at a time, the running max and
// sum are updated once per tile, and the weighted values are accumulated without ever storing a
// full score row. The `group` query heads sharing a KV head are processed together, so each K
// and V row is loaded (and widened from f16/bf16) once per group. Units are dealt round-robin
// to threads: with causal masking later tokens see more keys, and interleaving balances that.
//
// Over an f16 cache (the default) the kernel rounds as llama.cpp's CPU backend does: Q is rounded
// to f16, so each score is a dot product of two f16 vectors, and the weighted sum of V is kept in
// f16, rescaled and rounded after every key. That rounding costs accuracy (up to ~1e-5 NMSE on
// logits against exact arithmetic) but it is what makes kiln's greedy tokens identical to
// llama.cpp's where two candidates are close. A unit there is a block of up to 16 tokens of one
// KV head: each key tile is transposed once for the block and scored with keys in the vector
// lanes, so a token's scores are the same arithmetic in any block (decode is a block of one;
// tests/cpu/attention_batching_test.cpp). An f32 cache (--kv-f32) is computed in f32, a unit
// per (token, KV head).
#include <cmath>

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

static_assert(kAttnTile % kW == 0, "a tile row of scores is whole float vectors");

float dot(const float* a, const float* b, int64_t n) {
    FV a0 = fv_zero(), a1 = fv_zero();
    int64_t i = 0;
    for (; i + 2 * kW <= n; i += 2 * kW) {
        a0 = fv_fma(fv_load(a + i), fv_load(b + i), a0);
        a1 = fv_fma(fv_load(a + i + kW), fv_load(b + i + kW), a1);
    }
    for (; i + kW <= n; i += kW) a0 = fv_fma(fv_load(a + i), fv_load(b + i), a0);
    float s = fv_sum(fv_add(a0, a1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

// out[r] = q_r . k for the four rows q_r = q + r * qs: k is loaded once for the four.
void dot4(const float* q, int64_t qs, const float* k, int64_t n, float* out) {
    FV a0 = fv_zero(), a1 = fv_zero(), a2 = fv_zero(), a3 = fv_zero();
    int64_t i = 0;
    for (; i + kW <= n; i += kW) {
        const FV kv = fv_load(k + i);
        a0 = fv_fma(fv_load(q + i), kv, a0);
        a1 = fv_fma(fv_load(q + qs + i), kv, a1);
        a2 = fv_fma(fv_load(q + 2 * qs + i), kv, a2);
        a3 = fv_fma(fv_load(q + 3 * qs + i), kv, a3);
    }
    fv_sum4(a0, a1, a2, a3, out);
    for (; i < n; ++i) {
        for (int r = 0; r < 4; ++r) out[r] += q[r * qs + i] * k[i];
    }
}

// s[g * kAttnTile] = scale * (q_g . k) for the group's query rows q_g = q + g * qs. Four rows
// per reduction; a group of 4 or more that is not a multiple of 4 (Qwen2.5-0.5B: 7) ends with
// the last four rows again, as a single dot's reduction costs as much as dot4's.
void score_group(const float* q, int64_t qs, int64_t group, const float* k, int64_t n, float scale, float* s) {
    int64_t g = 0;
    const auto four = [&](int64_t g0) {
        float d4[4];
        dot4(q + g0 * qs, qs, k, n, d4);
        for (int r = 0; r < 4; ++r) s[(g0 + r) * kAttnTile] = d4[r] * scale;
    };
    for (; g + 4 <= group; g += 4) four(g);
    if (g < group && group >= 4) return four(group - 4);
    for (; g < group; ++g) s[g * kAttnTile] = dot(q + g * qs, k, n) * scale;
}

void axpy(float* y, float p, const float* x, int64_t n) {
    const FV pv = fv_set(p);
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(y + i, fv_fma(pv, fv_load(x + i), fv_load(y + i)));
    for (; i < n; ++i) y[i] += p * x[i];
}

// x[i] = f16(x[i]) for a row of floats.
void round_to_f16(float* x, int64_t n) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(x + i, fv_round_f16(fv_load(x + i)));
    for (; i < n; ++i) x[i] = h2f(f2h(x[i]));
}

// y = f16(y + p * x), element by element.
void axpy_f16(float* y, float p, const float* x, int64_t n) {
    const FV pv = fv_set(p);
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(y + i, fv_round_f16(fv_fma(pv, fv_load(x + i), fv_load(y + i))));
    for (; i < n; ++i) y[i] = h2f(f2h(y[i] + p * x[i]));
}

// x[i] = e^x[i] for i < n; x has room for n rounded up to whole vectors (a tile row).
void exp_tile_row(float* x, int64_t n) {
    for (int64_t i = n; i % kW != 0; ++i) x[i] = -INFINITY;  // padding lanes: e^-inf = 0
    for (int64_t i = 0; i < n; i += kW) fv_store(x + i, fv_exp(fv_load(x + i)));
}

// One tile's weighted V rows added into the f16-rounded accumulators of G query heads (ag:
// head g at g * dv, dv = NV vectors), kept in registers across the tile's keys: the same
// operations, order and rounding per head as axpy_f16 key by key, without a load and store of
// the accumulator per key. e[g * kAttnTile + jj] is key jj's weight for head g, or the rescale
// factor where grew[g * kAttnTile + jj] (the key raised that head's maximum). Each V row is
// widened once for the G heads, and their G * NV accumulation chains are independent: every
// rounding step waits for the last (fma, to f16, back), so one head's NV chains alone left the
// core mostly idle (measured: flash attention at pp512 about 2x faster with 4 heads at once).
template <int NV, int G>
void accumulate_tile_f16(float* ag, int64_t dv, float* sum, const float* e, const bool* grew, const uint8_t* v0,
                         size_t v_stride, int64_t nt) {
    FV acc[G][NV];
    float total[G];
    #pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
        total[g] = sum[g];
        #pragma GCC unroll 8
        for (int i = 0; i < NV; ++i) acc[g][i] = fv_load(ag + g * dv + i * kW);
    }
    for (int64_t jj = 0; jj < nt; ++jj) {
        const auto* vr = reinterpret_cast<const uint16_t*>(v0 + static_cast<size_t>(jj) * v_stride);
        FV v[NV];
        #pragma GCC unroll 8
        for (int i = 0; i < NV; ++i) v[i] = fv_load(vr + i * kW);
        #pragma GCC unroll 4
        for (int g = 0; g < G; ++g) {
            const float eg = e[g * kAttnTile + jj];
            FV w = fv_set(eg);
            if (grew[g * kAttnTile + jj]) {
                #pragma GCC unroll 8
                for (int i = 0; i < NV; ++i) acc[g][i] = fv_round_f16(fv_mul(acc[g][i], w));
                total[g] *= eg;
                total[g] += 1.0f;
                w = fv_set(1.0f);
            } else {
                total[g] += eg;
            }
            #pragma GCC unroll 8
            for (int i = 0; i < NV; ++i) acc[g][i] = fv_round_f16(fv_fma(w, v[i], acc[g][i]));
        }
    }
    #pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
        sum[g] = total[g];
        #pragma GCC unroll 8
        for (int i = 0; i < NV; ++i) fv_store(ag + g * dv + i * kW, acc[g][i]);
    }
}

using AccumulateF16 = void (*)(float*, int64_t, float*, const float*, const bool*, const uint8_t*, size_t, int64_t);

// The register-resident accumulation for a head size of whole vectors, up to 8 of them (dv 64
// and 128 on AVX-512), for 1..kMaxHeadsAtOnce(dv) heads at once (f[heads - 1]); empty otherwise
// (the key-by-key loop then runs).
struct AccumulateF16Set {
    AccumulateF16 f[4] = {};
    int heads = 0;  // the most heads one call takes
};

template <int NV, int G>
constexpr AccumulateF16Set accumulate_set() {
    AccumulateF16Set s;
    s.heads = G;
    s.f[0] = accumulate_tile_f16<NV, 1>;
    if constexpr (G >= 2) s.f[1] = accumulate_tile_f16<NV, 2>;
    if constexpr (G >= 3) s.f[2] = accumulate_tile_f16<NV, 3>;
    if constexpr (G >= 4) s.f[3] = accumulate_tile_f16<NV, 4>;
    return s;
}

AccumulateF16Set accumulate_f16_for(int64_t dv) {
    if (dv % kW != 0) return {};
    switch (dv / kW) {  // G * NV accumulators plus NV widened V vectors stay within the registers
        case 1: return accumulate_set<1, 4>();
        case 2: return accumulate_set<2, 4>();
        case 4: return accumulate_set<4, 4>();
        case 8: return accumulate_set<8, 2>();
        default: return {};
    }
}

// Keys [j0, j0 + nt) of KV head hk widened to f32 and transposed: kt[i * kAttnTile + jj] is
// element i of key jj. Lanes past nt up to the tile's end hold 0, so every score of the tile is
// finite (the softmax reads only the keys a token sees).
void load_key_tile(const Tensor& K, uint8_t* kdata, int64_t hk, int64_t j0, int64_t nt, float* kt, float* kbuf) {
    const int64_t d = K.ne[0];
    for (int64_t jc = 0; jc < kAttnTile; jc += kW) {
        if (jc >= nt) {
            for (int64_t i = 0; i < d; ++i) fv_store(kt + i * kAttnTile + jc, fv_zero());
            continue;
        }
        if (d % kW != 0) {
            for (int64_t x = 0; x < kW; ++x) {
                const float* kr = jc + x < nt ? floats(K.type, row_ptr(K, kdata, hk, j0 + jc + x), d, kbuf) : nullptr;
                for (int64_t i = 0; i < d; ++i) kt[i * kAttnTile + jc + x] = kr ? kr[i] : 0.0f;
            }
            continue;
        }
        for (int64_t ic = 0; ic < d; ic += kW) {  // K is f16 on this path
            FV r[kW];
            for (int64_t x = 0; x < kW; ++x) {
                r[x] = jc + x < nt ? fv_load(reinterpret_cast<const uint16_t*>(row_ptr(K, kdata, hk, j0 + jc + x)) + ic)
                                   : fv_zero();
            }
            fv_transpose(r);
            for (int y = 0; y < kW; ++y) fv_store(kt + (ic + y) * kAttnTile + jc, r[y]);
        }
    }
}

// s[h * kAttnTile + jj] = scale * (q_h . k_jj) for H query heads q_h = q + h * d against a
// transposed key tile. Keys sit in the vector lanes, so each score is one chain of fmas over
// i = 0..d-1 with no reduction: the same arithmetic whichever lane, vector width or number of
// heads and tokens scores it, so a prompt gives the same scores in one batch, in pieces or
// token by token (prompt cache, decode).
template <int H>
void score_tile(const float* q, int64_t d, const float* kt, float scale, float* s) {
    constexpr int C = kAttnTile / kW;
    FV acc[H][C];
    #pragma GCC unroll 4
    for (int h = 0; h < H; ++h) {
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[h][c] = fv_zero();
    }
    for (int64_t i = 0; i < d; ++i) {
        FV k[C];
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) k[c] = fv_load(kt + i * kAttnTile + c * kW);
        #pragma GCC unroll 4
        for (int h = 0; h < H; ++h) {
            const FV qv = fv_set(q[h * d + i]);
            #pragma GCC unroll 8
            for (int c = 0; c < C; ++c) acc[h][c] = fv_fma(qv, k[c], acc[h][c]);
        }
    }
    #pragma GCC unroll 4
    for (int h = 0; h < H; ++h) {
        #pragma GCC unroll 8
        for (int c = 0; c < C; ++c) fv_store(s + h * kAttnTile + c * kW, fv_mul(acc[h][c], fv_set(scale)));
    }
}

// Heads per score_tile call: H * kAttnTile / kW accumulators stay within the vector registers.
constexpr int kScoreHeads = kW >= 16 ? 4 : 1;

void score_heads(const float* q, int64_t d, int64_t group, const float* kt, float scale, float* s) {
    int64_t g = 0;
    if constexpr (kScoreHeads >= 4) {
        for (; g + 4 <= group; g += 4) score_tile<4>(q + g * d, d, kt, scale, s + g * kAttnTile);
        if (group - g == 3) return score_tile<3>(q + g * d, d, kt, scale, s + g * kAttnTile);
        if (group - g == 2) return score_tile<2>(q + g * d, d, kt, scale, s + g * kAttnTile);
    }
    for (; g < group; ++g) score_tile<1>(q + g * d, d, kt, scale, s + g * kAttnTile);
}

// Keys [j0, j0 + nt) of one token's online softmax over an f16 cache, from its scores s (head g
// at s + g * kAttnTile): each key's running max, every exp of the tile in vectors, then the f16
// accumulation of V rows v0.. in key order, rounding as one key at a time would.
void softmax_accumulate_f16(const CpuKernelArgs& a, int64_t group, float* s, bool* grew, float* mx, float* sum,
                            float* acc, const uint8_t* v0, int64_t nt, float* vbuf) {
    const Tensor& V = src(a, 2);
    const int64_t dv = V.ne[0];
    // s becomes the exp argument: old max - new max when a key raises the maximum (the factor
    // that rescales what was accumulated; the key's own weight is 1), else score - max. The
    // running maximum before each key is a prefix scan over the vector, so this is the key-by-key
    // rule computed a vector at a time (max is exact: the same values).
    for (int64_t g = 0; g < group; ++g) {
        float* sg = s + g * kAttnTile;
        bool* gg = grew + g * kAttnTile;
        float m = mx[g];
        for (int64_t jj = 0; jj < nt; jj += kW) {  // lanes past nt (the next row's) are not used
            const FV v = fv_load(sg + jj);
            const FV before = fv_max_before(v, m);
            float vl[kW], bl[kW];
            fv_store(vl, v);
            fv_store(bl, before);
            fv_store(sg + jj, fv_select_gt(v, before, fv_sub(before, v), fv_sub(v, before), gg + jj));
            const int64_t last = imin(kW, nt - jj) - 1;
            m = vl[last] > bl[last] ? vl[last] : bl[last];
        }
        mx[g] = m;
        exp_tile_row(sg, nt);  // its padding may run into the next head's row, before the keys it reads
    }
    const AccumulateF16Set accumulate = accumulate_f16_for(dv);
    if (accumulate.heads > 0) {
        for (int64_t g = 0; g < group;) {
            const int heads = static_cast<int>(imin(accumulate.heads, group - g));
            accumulate.f[heads - 1](acc + g * dv, dv, sum + g, s + g * kAttnTile, grew + g * kAttnTile, v0, V.nb[2], nt);
            g += heads;
        }
        return;
    }
    for (int64_t jj = 0; jj < nt; ++jj) {
        const float* vr = floats(V.type, v0 + static_cast<size_t>(jj) * V.nb[2], dv, vbuf);
        for (int64_t g = 0; g < group; ++g) {
            const float e = s[g * kAttnTile + jj];
            float* ag = acc + g * dv;
            float w = e;
            if (grew[g * kAttnTile + jj]) {  // a new maximum: rescale what was accumulated so far
                for (int64_t i = 0; i < dv; ++i) ag[i] *= e;
                round_to_f16(ag, dv);
                sum[g] *= e;
                w = 1.0f;
            }
            sum[g] += w;
            axpy_f16(ag, w, vr, dv);
        }
    }
}

// Tokens [t0, t0 + tb) with KV head hk over an f16 cache (see the file comment); token b sees
// keys [first[b], visible[b]). Each 64-key tile is widened and transposed once for the block
// (load_key_tile), scored with keys in the lanes (score_tile), then every token's heads go
// through the online softmax and f16 accumulation over the keys that token sees. Decode is a
// block of one.
void attend_f16(const CpuKernelArgs& a, int64_t t0, int64_t tb, int64_t hk, const int64_t* first,
                const int64_t* visible, float* scratch) {
    const Tensor& Q = src(a, 0);
    const Tensor& K = src(a, 1);
    const Tensor& V = src(a, 2);
    const Tensor& O = dst(a);
    const int64_t d = Q.ne[0], dv = V.ne[0], group = Q.ne[1] / K.ne[1];
    const float scale = a.node->params.scale;
    const F16AttnScratch sc = f16_attn_scratch(scratch, group, d, dv, tb);
    bool grew[(kMaxAttnGroup + 1) * kAttnTile];  // key jj of head g set a new maximum (+ a row of vector padding)
    int64_t jlo = INT64_MAX, jhi = 0;
    for (int64_t b = 0; b < tb; ++b) {
        for (int64_t g = 0; g < group; ++g) {
            const auto* q = reinterpret_cast<const float*>(row_ptr(Q, src_data(a, 0), hk * group + g, t0 + b));
            float* qg = sc.q16 + (b * group + g) * d;
            for (int64_t i = 0; i < d; ++i) qg[i] = q[i];
            round_to_f16(qg, d);
            sc.mx[b * group + g] = -INFINITY, sc.sum[b * group + g] = 0.0f;
        }
        for (int64_t i = 0; i < group * dv; ++i) sc.acc[b * group * dv + i] = 0.0f;
        if (first[b] < visible[b]) jlo = imin(jlo, first[b]), jhi = imax(jhi, visible[b]);
    }
    for (int64_t j0 = jlo; j0 < jhi; j0 += kAttnTile) {
        const int64_t nt = imin(kAttnTile, jhi - j0);
        load_key_tile(K, src_data(a, 1), hk, j0, nt, sc.kt, sc.kbuf);
        for (int64_t b = 0; b < tb; ++b) {
            const int64_t lo = imax(first[b], j0) - j0, hi = imin(visible[b], j0 + nt) - j0;
            if (lo >= hi) continue;
            score_heads(sc.q16 + b * group * d, d, group, sc.kt, scale, sc.s);
            softmax_accumulate_f16(a, group, sc.s + lo, grew + lo, sc.mx + b * group, sc.sum + b * group,
                                   sc.acc + b * group * dv, row_ptr(V, src_data(a, 2), hk, j0 + lo), hi - lo, sc.kbuf);
        }
    }
    for (int64_t b = 0; b < tb; ++b) {
        for (int64_t g = 0; g < group; ++g) {
            auto* out = reinterpret_cast<float*>(row_ptr(O, dst_data(a), hk * group + g, t0 + b));
            const float sg = sc.sum[b * group + g];
            const float inv = sg > 0 ? 1.0f / sg : 0.0f;
            const float* ag = sc.acc + (b * group + g) * dv;
            for (int64_t i = 0; i < dv; ++i) out[i] = ag[i] * inv;
        }
    }
}

}  // namespace

void flash_attn(const CpuKernelArgs& a) {
    const Tensor& Q = src(a, 0);
    const Tensor& K = src(a, 1);
    const Tensor& V = src(a, 2);
    const Tensor& O = dst(a);
    const auto* pos = reinterpret_cast<const int32_t*>(src_data(a, 3));
    const int64_t d = Q.ne[0], dv = V.ne[0], n_kv = K.ne[2], hkv = K.ne[1];
    const int64_t group = Q.ne[1] / hkv;
    const float scale = a.node->params.scale;

    // Token t sees keys [first, visible): causal, up to its position; a sliding window of w
    // keeps only keys j > pos[t] - w.
    const auto visible_of = [&](int64_t t) {
        return a.node->params.causal ? imax(0, imin(static_cast<int64_t>(pos[t]) + 1, n_kv)) : n_kv;
    };
    const auto first_of = [&](int64_t t) {
        const int64_t window = a.node->params.window;
        return window > 0 ? imax(0, static_cast<int64_t>(pos[t]) - window + 1) : 0;
    };
    const int64_t n_tok = Q.ne[2];
    if (K.type == DType::F16 && V.type == DType::F16 && group <= kMaxAttnGroup) {
        // Units of tb tokens per KV head share each key tile; smaller blocks where there are too
        // few units to keep every thread busy (the block size does not change the arithmetic).
        const int64_t tb = imax(1, imin(attn_token_block(group, n_tok), n_tok * hkv / (4 * a.nth)));
        const int64_t blocks = (n_tok + tb - 1) / tb;
        int64_t first[kMaxAttnTokenBlock], visible[kMaxAttnTokenBlock];
        for (int64_t u = a.ith; u < blocks * hkv; u += a.nth) {
            const int64_t t0 = (u / hkv) * tb, hk = u % hkv, n = imin(tb, n_tok - t0);
            for (int64_t b = 0; b < n; ++b) first[b] = first_of(t0 + b), visible[b] = visible_of(t0 + b);
            attend_f16(a, t0, n, hk, first, visible, thread_scratch(a));
        }
        return;
    }

    float* acc = thread_scratch(a);              // [group][dv]
    float* s = acc + group * dv;                 // [group][kAttnTile] scores, then weights
    float* mx = s + group * kAttnTile;           // [group] running max
    float* sum = mx + group;                     // [group] running sum of weights
    float* kbuf = sum + group;                   // one K row as f32
    float* vbuf = kbuf + d;                      // one V row as f32
    const int64_t units = n_tok * hkv;
    for (int64_t u = a.ith; u < units; u += a.nth) {
        const int64_t t = u / hkv, hk = u % hkv;
        const int64_t visible = visible_of(t), first = first_of(t);
        for (int64_t g = 0; g < group * dv; ++g) acc[g] = 0.0f;
        for (int64_t g = 0; g < group; ++g) mx[g] = -INFINITY, sum[g] = 0.0f;
        const float* q0 = reinterpret_cast<const float*>(row_ptr(Q, src_data(a, 0), hk * group, t));
        const int64_t qstride = static_cast<int64_t>(Q.nb[1] / sizeof(float));

        for (int64_t j0 = first; j0 < visible; j0 += kAttnTile) {
            const int64_t nt = imin(kAttnTile, visible - j0);
            for (int64_t jj = 0; jj < nt; ++jj) {
                const float* kr = floats(K.type, row_ptr(K, src_data(a, 1), hk, j0 + jj), d, kbuf);
                score_group(q0, qstride, group, kr, d, scale, s + jj);
            }
            for (int64_t g = 0; g < group; ++g) {
                float* sg = s + g * kAttnTile;
                float m = mx[g];
                for (int64_t jj = 0; jj < nt; ++jj) m = fmaxf_(m, sg[jj]);
                const float c = expf(mx[g] - m);  // 0 on the first tile (mx = -inf)
                for (int64_t jj = 0; jj < nt; ++jj) sg[jj] -= m;
                exp_tile_row(sg, nt);
                FV lv = fv_zero();
                for (int64_t jj = 0; jj < nt; jj += kW) lv = fv_add(lv, fv_load(sg + jj));  // padding is 0
                const float l = fv_sum(lv);
                sum[g] = sum[g] * c + l;
                mx[g] = m;
                if (c != 1.0f) {
                    float* ag = acc + g * dv;
                    for (int64_t i = 0; i < dv; ++i) ag[i] *= c;
                }
            }
            for (int64_t jj = 0; jj < nt; ++jj) {
                const float* vr = floats(V.type, row_ptr(V, src_data(a, 2), hk, j0 + jj), dv, vbuf);
                for (int64_t g = 0; g < group; ++g) axpy(acc + g * dv, s[g * kAttnTile + jj], vr, dv);
            }
        }
        for (int64_t g = 0; g < group; ++g) {
            auto* out = reinterpret_cast<float*>(row_ptr(O, dst_data(a), hk * group + g, t));
            const float inv = sum[g] > 0 ? 1.0f / sum[g] : 0.0f;
            for (int64_t i = 0; i < dv; ++i) out[i] = acc[g * dv + i] * inv;
        }
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
