// The Unary and Binary families (graph/op_traits.h): add, mul and swiglu (b broadcast over a),
// scale, silu, gelu, sigmoid. Threads split the rows; f16/bf16 inputs are widened a row at a
// time into the thread's scratch. silu and gelu run in float vectors through fv_exp (simd.h);
// sigmoid through libm's expf, as ggml's.

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

enum class Bin { Add, Mul, SwiGLU };

// silu(x) = x / (1 + e^-x) = x * sigmoid(x).
inline FV fv_silu(FV x) { return fv_div(x, fv_add(fv_set(1.0f), fv_exp(fv_sub(fv_zero(), x)))); }

// gelu (tanh form) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
// one exp and no cancellation near tanh(u) = -1.
inline FV fv_gelu(FV x) {
    constexpr float c2 = -2.0f * 0.7978845608028654f;  // -2 sqrt(2 / pi)
    const FV x3 = fv_mul(fv_mul(x, x), x);
    const FV e = fv_exp(fv_mul(fv_set(c2), fv_fma(fv_set(0.044715f), x3, x)));
    return fv_div(x, fv_add(fv_set(1.0f), e));
}

// out[i] = f(x[i]) over a row, in vectors; the tail goes through a padded vector so that every
// element takes the same path.
template <typename F>
void map_row(const float* x, float* out, int64_t n, F f) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(out + i, f(fv_load(x + i)));
    if (i < n) {
        float t[kW] = {};
        for (int64_t j = i; j < n; ++j) t[j - i] = x[j];
        fv_store(t, f(fv_load(t)));
        for (int64_t j = i; j < n; ++j) out[j] = t[j - i];
    }
}

// out[i] = silu(x[i]) * y[i].
void swiglu_row(const float* x, const float* y, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) fv_store(out + i, fv_mul(fv_silu(fv_load(x + i)), fv_load(y + i)));
    if (i < n) {
        float tx[kW] = {}, ty[kW] = {};
        for (int64_t j = i; j < n; ++j) tx[j - i] = x[j], ty[j - i] = y[j];
        fv_store(tx, fv_mul(fv_silu(fv_load(tx)), fv_load(ty)));
        for (int64_t j = i; j < n; ++j) out[j] = tx[j - i];
    }
}

template <Bin op>
void binary(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& B = src(a, 1);
    const Tensor& D = dst(a);
    float* buf = thread_scratch(a);
    const int64_t n = A.ne[0], bn = B.ne[0];
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const int64_t i1 = row % A.ne[1], i2 = (row / A.ne[1]) % A.ne[2], i3 = row / (A.ne[1] * A.ne[2]);
        const float* x = floats(A.type, row_ptr(A, src_data(a, 0), i1, i2, i3), n, buf);
        const float* y = floats(B.type, row_ptr(B, src_data(a, 1), i1 % B.ne[1], i2 % B.ne[2], i3 % B.ne[3]), bn, buf + n);
        auto* out = reinterpret_cast<float*>(row_ptr(D, dst_data(a), i1, i2, i3));
        for (int64_t base = 0; base < n; base += bn) {  // bn divides n: b repeats along the row
            const float* xs = x + base;
            float* os = out + base;
            if constexpr (op == Bin::Add) {
                for (int64_t i = 0; i < bn; ++i) os[i] = xs[i] + y[i];
            } else if constexpr (op == Bin::Mul) {
                for (int64_t i = 0; i < bn; ++i) os[i] = xs[i] * y[i];
            } else {
                swiglu_row(xs, y, os, bn);
            }
        }
    }
}

enum class Un { Scale, Silu, Gelu, Sigmoid };

template <Un op>
void unary(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    float* buf = thread_scratch(a);
    const int64_t n = A.ne[0];
    const float s = a.node->params.scale;
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const float* x = floats(A.type, flat_row(A, src_data(a, 0), row), n, buf);
        auto* out = reinterpret_cast<float*>(flat_row(D, dst_data(a), row));
        if constexpr (op == Un::Scale) {
            for (int64_t i = 0; i < n; ++i) out[i] = x[i] * s;
        } else if constexpr (op == Un::Silu) {
            map_row(x, out, n, fv_silu);
        } else if constexpr (op == Un::Gelu) {
            map_row(x, out, n, fv_gelu);
        } else {
            // libm's expf per element, as ggml computes it: sigmoid gates (Qwen2-MoE's shared
            // expert) are a value per token, and matching llama.cpp's bits is worth more there.
            for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-x[i]));
        }
    }
}

}  // namespace

CpuKernel elementwise_kernel(Op op) {
    switch (op) {
        case Op::Add: return binary<Bin::Add>;
        case Op::Mul: return binary<Bin::Mul>;
        case Op::SwiGLU: return binary<Bin::SwiGLU>;
        case Op::Scale: return unary<Un::Scale>;
        case Op::Silu: return unary<Un::Silu>;
        case Op::Gelu: return unary<Un::Gelu>;
        case Op::Sigmoid: return unary<Un::Sigmoid>;
        default: return nullptr;
    }
}

void exp_floats(const float* x, float* y, int64_t n) { map_row(x, y, n, fv_exp); }

}  // namespace kiln::cpu::KILN_ISA_NS
