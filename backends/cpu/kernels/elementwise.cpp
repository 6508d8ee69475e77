// Element-wise ops: add and mul (b broadcast over a), scale, silu, gelu, swiglu. Threads split
// the rows; f16/bf16 inputs are widened a row at a time into the thread's scratch.
#include <cmath>

#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

enum class Bin { Add, Mul, SwiGLU };

inline float silu_f(float x) { return x / (1.0f + expf(-x)); }

inline float gelu_f(float x) {
    constexpr float c = 0.7978845608028654f;  // sqrt(2 / pi)
    return 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
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
                for (int64_t i = 0; i < bn; ++i) os[i] = silu_f(xs[i]) * y[i];
            }
        }
    }
}

enum class Un { Scale, Silu, Gelu };

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
            for (int64_t i = 0; i < n; ++i) out[i] = silu_f(x[i]);
        } else {
            for (int64_t i = 0; i < n; ++i) out[i] = gelu_f(x[i]);
        }
    }
}

}  // namespace

void add(const CpuKernelArgs& a) { binary<Bin::Add>(a); }
void mul(const CpuKernelArgs& a) { binary<Bin::Mul>(a); }
void swiglu(const CpuKernelArgs& a) { binary<Bin::SwiGLU>(a); }
void scale(const CpuKernelArgs& a) { unary<Un::Scale>(a); }
void silu(const CpuKernelArgs& a) { unary<Un::Silu>(a); }
void gelu(const CpuKernelArgs& a) { unary<Un::Gelu>(a); }

}  // namespace kiln::cpu::KILN_ISA_NS
