// Data movement: get_rows (embedding lookup, any computable table dtype), copy (into a possibly
// strided or quantized destination), set_rows (the KV-cache write), concat and argmax. Quantized
// destinations go through the reference quantizers (graph/quant): these ops run once per token
// on small rows, and sharing the quantizer keeps CPU and reference bytes identical.
#include "backends/cpu/kernels/common.h"
#include "backends/cpu/kernels/kernels_isa.h"
#include "graph/quant/quantize.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

// n floats of an f32/f16/bf16 row starting at element i0, written into out.
void to_f32(DType t, const uint8_t* row, int64_t i0, int64_t n, float* out) {
    switch (t) {
        case DType::F16: f16_to_f32_row(reinterpret_cast<const uint16_t*>(row) + i0, out, n); return;
        case DType::BF16: bf16_to_f32_row(reinterpret_cast<const uint16_t*>(row) + i0, out, n); return;
        default: std::memcpy(out, reinterpret_cast<const float*>(row) + i0, static_cast<size_t>(n) * sizeof(float));
    }
}

// Writes n floats as a row of dtype t (any computable dtype).
void store_row(DType t, const float* x, uint8_t* row, int64_t n) {
    switch (t) {
        case DType::F32: std::memcpy(row, x, static_cast<size_t>(n) * sizeof(float)); return;
        case DType::F16: f32_to_f16_row(x, reinterpret_cast<uint16_t*>(row), n); return;
        case DType::BF16: f32_to_bf16_row(x, reinterpret_cast<uint16_t*>(row), n); return;
        default: quantize_row(t, x, row, n); return;
    }
}

}  // namespace

void get_rows(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    const auto* ids = reinterpret_cast<const int32_t*>(src_data(a, 1));
    const int64_t n = A.ne[0], m = src(a, 1).ne[0];
    // Lookup i of the flattened [m, b] ids reads table slice i / m.
    const Range r = share(src(a, 1).n_elements(), a.ith, a.nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
        auto* out = reinterpret_cast<float*>(row_ptr(D, dst_data(a), i % m, i / m));
        if (ids[i] < 0 || ids[i] >= A.ne[1]) {  // the host validates ids; never read out of bounds
            for (int64_t j = 0; j < n; ++j) out[j] = 0.0f;
            continue;
        }
        const uint8_t* row = row_ptr(A, src_data(a, 0), ids[i], i / m);
        switch (A.type) {
            case DType::F32: case DType::F16: case DType::BF16: to_f32(A.type, row, 0, n, out); break;
            default: dequantize_row(A.type, row, out, n); break;
        }
    }
}

// dst row r holds a's elements [r * dn, (r + 1) * dn) in logical order; a's rows may be shaped
// differently, so a destination row can span several source rows.
void copy(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    float* buf = thread_scratch(a);
    const int64_t dn = D.ne[0], an = A.ne[0];
    const Range r = share(D.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        uint8_t* out = flat_row(D, dst_data(a), row);
        float* x = D.type == DType::F32 ? reinterpret_cast<float*>(out) : buf;
        for (int64_t done = 0; done < dn;) {
            const int64_t f = row * dn + done;
            const int64_t ar = f / an, off = f % an, len = imin(an - off, dn - done);
            to_f32(A.type, flat_row(A, src_data(a, 0), ar), off, len, x + done);
            done += len;
        }
        if (D.type != DType::F32) store_row(D.type, x, out, dn);
    }
}

void set_rows(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    const auto* ids = reinterpret_cast<const int32_t*>(src_data(a, 1));
    float* buf = thread_scratch(a);
    const int64_t m = src(a, 1).ne[0], n = A.ne[0];
    const Range r = share(m, a.ith, a.nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
        const int32_t id = ids[i];
        if (id < 0 || id >= D.ne[1]) continue;  // out of range: nothing is written
        bool later = false;  // a repeated id: the last write wins, as in the reference
        for (int64_t j = i + 1; j < m && !later; ++j) later = ids[j] == id;
        if (later) continue;
        uint8_t* out = row_ptr(D, dst_data(a), id);
        float* x = D.type == DType::F32 ? reinterpret_cast<float*>(out) : buf;
        to_f32(A.type, row_ptr(A, src_data(a, 0), i), 0, n, x);
        if (D.type != DType::F32) store_row(D.type, x, out, n);
    }
}

void concat(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& B = src(a, 1);
    const Tensor& D = dst(a);
    const int dim = a.node->params.dim;
    const Range r = share(D.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        int64_t idx[4] = {0, row % D.ne[1], (row / D.ne[1]) % D.ne[2], row / (D.ne[1] * D.ne[2])};
        auto* out = reinterpret_cast<float*>(flat_row(D, dst_data(a), row));
        if (dim == 0) {
            to_f32(A.type, row_ptr(A, src_data(a, 0), idx[1], idx[2], idx[3]), 0, A.ne[0], out);
            to_f32(B.type, row_ptr(B, src_data(a, 1), idx[1], idx[2], idx[3]), 0, B.ne[0], out + A.ne[0]);
            continue;
        }
        const bool from_a = idx[dim] < A.ne[dim];
        if (!from_a) idx[dim] -= A.ne[dim];
        const Tensor& S = from_a ? A : B;
        to_f32(S.type, row_ptr(S, src_data(a, from_a ? 0 : 1), idx[1], idx[2], idx[3]), 0, S.ne[0], out);
    }
}

// The k largest of each row by insertion into a sorted list of k (k is a handful: a router's
// experts): largest first, the lower index on ties, NaN below every number.
void top_k(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    const int64_t k = a.node->params.k;
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const auto* x = reinterpret_cast<const float*>(flat_row(A, src_data(a, 0), row));
        auto* out = reinterpret_cast<int32_t*>(flat_row(D, dst_data(a), row));
        // x[i] goes before x[j] (i > j: a later index never wins a tie).
        const auto before = [x](int64_t i, int64_t j) { return !std::isnan(x[i]) && (std::isnan(x[j]) || x[i] > x[j]); };
        int64_t filled = 0;
        for (int64_t i = 0; i < A.ne[0]; ++i) {
            if (filled == k && !before(i, out[k - 1])) continue;
            int64_t p = filled < k ? filled++ : k - 1;
            for (; p > 0 && before(i, out[p - 1]); --p) out[p] = out[p - 1];
            out[p] = static_cast<int32_t>(i);
        }
    }
}

void argmax(const CpuKernelArgs& a) {
    const Tensor& A = src(a, 0);
    const Tensor& D = dst(a);
    const Range r = share(A.n_rows(), a.ith, a.nth);
    for (int64_t row = r.begin; row < r.end; ++row) {
        const auto* x = reinterpret_cast<const float*>(flat_row(A, src_data(a, 0), row));
        int32_t best = 0;
        for (int64_t i = 1; i < A.ne[0]; ++i) {
            if (x[i] > x[best]) best = static_cast<int32_t>(i);  // first maximum wins ties
        }
        *reinterpret_cast<int32_t*>(flat_row(D, dst_data(a), row)) = best;
    }
}

}  // namespace kiln::cpu::KILN_ISA_NS
