// Flash attention with an online softmax: keys are scored a tile at a time, the running max and
// sum are updated once per tile, and the weighted values are accumulated without ever storing a
// full score row. A work unit is (token, KV head): the `group` query heads sharing that KV head
// are processed together, so each K and V row is loaded (and widened from f16/bf16) once per
// group. Units are dealt round-robin to threads: with causal masking later tokens see more keys,
// and interleaving balances that.
//
// Over an f16 cache (the default) the kernel rounds as llama.cpp's CPU backend does: Q is rounded
// to f16, so each score is a dot product of two f16 vectors, and the weighted sum of V is kept in
// f16, rescaled and rounded after every key. That rounding costs accuracy (up to ~1e-5 NMSE on
// logits against exact arithmetic) but it is what makes kiln's greedy tokens identical to
// llama.cpp's where two candidates are close; an f32 cache (--kv-f32) is computed in f32 with
// tiles, as above.
#include <cmath>

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

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

void axpy(float* y, float p, const float* x, int64_t n) {
    const FV pv = fv_set(p);
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(y + i, fv_fma(pv, fv_load(x + i), fv_load(y + i)));
    for (; i < n; ++i) y[i] += p * x[i];
}

// x[i] = f16(x[i]) for a row of floats.
void round_to_f16(float* x, int64_t n) {
    uint16_t tmp[kW];
    int64_t i = 0;
    for (; i + kW <= n; i += kW) {
        fv_store_f16(tmp, fv_load(x + i));
        fv_store(x + i, fv_load(tmp));
    }
    for (; i < n; ++i) x[i] = h2f(f2h(x[i]));
}

// y = f16(y + p * x), element by element.
void axpy_f16(float* y, float p, const float* x, int64_t n) {
    axpy(y, p, x, n);
    round_to_f16(y, n);
}

// One (token, KV head) unit over an f16 cache, key by key (see the file comment).
void attend_f16(const CpuKernelArgs& a, int64_t t, int64_t hk, int64_t first, int64_t visible, float* acc, float* q16,
                float* kbuf, float* vbuf) {
    const Tensor& Q = src(a, 0);
    const Tensor& K = src(a, 1);
    const Tensor& V = src(a, 2);
    const Tensor& O = dst(a);
    const int64_t d = Q.ne[0], dv = V.ne[0], group = Q.ne[1] / K.ne[1];
    const float scale = a.node->params.scale;
    for (int64_t g = 0; g < group; ++g) {
        const auto* q = reinterpret_cast<const float*>(row_ptr(Q, src_data(a, 0), hk * group + g, t));
        for (int64_t i = 0; i < d; ++i) q16[g * d + i] = q[i];
        round_to_f16(q16 + g * d, d);
    }
    float mx[kMaxAttnGroup], sum[kMaxAttnGroup];
    for (int64_t g = 0; g < group; ++g) mx[g] = -INFINITY, sum[g] = 0.0f;
    for (int64_t g = 0; g < group * dv; ++g) acc[g] = 0.0f;
    for (int64_t j = first; j < visible; ++j) {
        const float* kr = floats(K.type, row_ptr(K, src_data(a, 1), hk, j), d, kbuf);
        const float* vr = floats(V.type, row_ptr(V, src_data(a, 2), hk, j), dv, vbuf);
        for (int64_t g = 0; g < group; ++g) {
            const float s = dot(q16 + g * d, kr, d) * scale;
            float* ag = acc + g * dv;
            float w = 1.0f;
            if (s > mx[g]) {  // a new maximum: rescale what was accumulated so far
                const float c = expf(mx[g] - s);
                mx[g] = s;
                for (int64_t i = 0; i < dv; ++i) ag[i] *= c;
                round_to_f16(ag, dv);
                sum[g] *= c;
            } else {
                w = expf(s - mx[g]);
            }
            sum[g] += w;
            axpy_f16(ag, w, vr, dv);
        }
    }
    for (int64_t g = 0; g < group; ++g) {
        auto* out = reinterpret_cast<float*>(row_ptr(O, dst_data(a), hk * group + g, t));
        const float inv = sum[g] > 0 ? 1.0f / sum[g] : 0.0f;
        for (int64_t i = 0; i < dv; ++i) out[i] = acc[g * dv + i] * inv;
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

    float* acc = thread_scratch(a);              // [group][dv]
    float* s = acc + group * dv;                 // [group][kAttnTile] scores, then weights
    float* mx = s + group * kAttnTile;           // [group] running max
    float* sum = mx + group;                     // [group] running sum of weights
    float* kbuf = sum + group;                   // one K row as f32
    float* vbuf = kbuf + d;                      // one V row as f32
    float* q16 = vbuf + dv;                      // [group][d] Q rounded to f16 (f16 cache only)
    const bool f16_cache = K.type == DType::F16 && V.type == DType::F16 && group <= kMaxAttnGroup;

    const int64_t units = Q.ne[2] * hkv;
    for (int64_t u = a.ith; u < units; u += a.nth) {
        const int64_t t = u / hkv, hk = u % hkv;
        const int64_t visible = a.node->params.causal ? imax(0, imin(static_cast<int64_t>(pos[t]) + 1, n_kv)) : n_kv;
        // A sliding window of w keeps only keys j > pos[t] - w.
        const int64_t window = a.node->params.window;
        const int64_t first = window > 0 ? imax(0, static_cast<int64_t>(pos[t]) - window + 1) : 0;
        if (f16_cache) {
            attend_f16(a, t, hk, first, visible, acc, q16, kbuf, vbuf);
            continue;
        }
        for (int64_t g = 0; g < group * dv; ++g) acc[g] = 0.0f;
        for (int64_t g = 0; g < group; ++g) mx[g] = -INFINITY, sum[g] = 0.0f;
        const float* q0 = reinterpret_cast<const float*>(row_ptr(Q, src_data(a, 0), hk * group, t));
        const int64_t qstride = static_cast<int64_t>(Q.nb[1] / sizeof(float));

        for (int64_t j0 = first; j0 < visible; j0 += kAttnTile) {
            const int64_t nt = imin(kAttnTile, visible - j0);
            for (int64_t jj = 0; jj < nt; ++jj) {
                const float* kr = floats(K.type, row_ptr(K, src_data(a, 1), hk, j0 + jj), d, kbuf);
                for (int64_t g = 0; g < group; ++g) s[g * kAttnTile + jj] = dot(q0 + g * qstride, kr, d) * scale;
            }
            for (int64_t g = 0; g < group; ++g) {
                float* sg = s + g * kAttnTile;
                float m = mx[g];
                for (int64_t jj = 0; jj < nt; ++jj) m = fmaxf_(m, sg[jj]);
                const float c = expf(mx[g] - m);  // 0 on the first tile (mx = -inf)
                float l = 0.0f;
                for (int64_t jj = 0; jj < nt; ++jj) {
                    sg[jj] = expf(sg[jj] - m);
                    l += sg[jj];
                }
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
