// Copy (shaders/copy.comp), SetRows (shaders/set_rows.comp) and Concat (shaders/concat.comp).
// Sources and destinations are f32 / f16 / bf16 views of any strides; a quantized destination
// is not supported (the reference's quantizers search scales, which these kernels do not
// reproduce), so such nodes stay on the CPU.
#include <array>

#include "backends/vulkan/ops/float_layout.h"
#include "backends/vulkan/ops/ops.h"

namespace kiln::vk {
namespace {

struct CopyPush {  // copy.comp's Params
    uint32_t n;
    uint32_t a_ne0, a_ne1, a_ne2;
    ElementLayout a;
    uint32_t d_ne0, d_ne1, d_ne2;
    ElementLayout d;
};
static_assert(sizeof(CopyPush) == 17 * 4);

struct SetRowsPush {  // set_rows.comp's Params
    uint32_t ne0;
    uint32_t rows;
    uint32_t dst_rows;
    uint32_t a_offset, a_nb1, a_type;
    uint32_t ids_offset;
    uint32_t d_offset, d_nb1, d_type;
};
static_assert(sizeof(SetRowsPush) == 10 * 4);

struct ConcatPush {  // concat.comp's Params
    uint32_t n;
    uint32_t ne0, ne1, ne2;
    uint32_t dim;
    uint32_t split;
    ElementLayout a;
    ElementLayout b;
};
static_assert(sizeof(ConcatPush) == 16 * 4);

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

bool supports_copy(const Graph& g, const Node& n, const DeviceInfo& info) {
    return addressable(g, n.src[0], info) && addressable(g, n.dst, info) &&
           g.tensor(n.src[0]).n_elements() == g.tensor(n.dst).n_elements();
}

bool supports_set_rows(const Graph& g, const Node& n, const DeviceInfo& info) {
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& ids = g.tensor(n.src[1]);
    const Tensor& d = g.tensor(n.dst);
    return addressable(g, n.src[0], info) && addressable(g, n.dst, info) && addressable(g, n.src[1], info, true) &&
           ids.type == DType::I32 && ids.ne[0] == a.ne[1] && a.ne[0] == d.ne[0] && a.ne[2] * a.ne[3] == 1 &&
           d.ne[2] * d.ne[3] == 1;
}

bool supports_concat(const Graph& g, const Node& n, const DeviceInfo& info) {
    const Tensor& d = g.tensor(n.dst);
    return n.params.dim >= 0 && n.params.dim < kMaxDims && d.type == DType::F32 && d.is_contiguous() &&
           addressable(g, n.dst, info) && addressable(g, n.src[0], info) && addressable(g, n.src[1], info);
}

void record_copy(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    const TensorBinding a_bind = r.bind(n.src[0]);
    const TensorBinding d_bind = r.bind(n.dst);
    const CopyPush push{u32(a.n_elements()), u32(a.ne[0]), u32(a.ne[1]), u32(a.ne[2]), element_layout(a, a_bind),
                        u32(d.ne[0]), u32(d.ne[1]), u32(d.ne[2]), element_layout(d, d_bind)};
    const uint32_t wg = flat_workgroup_size(r.info());
    const ComputePipeline& p = r.pipeline({"copy", 2, sizeof(CopyPush), {wg}});
    const std::array bindings{a_bind, d_bind};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.n_elements()), wg));
}

void record_set_rows(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& d = g.tensor(n.dst);
    const TensorBinding a_bind = r.bind(n.src[0]);
    const TensorBinding ids_bind = r.bind(n.src[1]);
    const TensorBinding d_bind = r.bind(n.dst);
    const ElementLayout al = element_layout(a, a_bind);
    const ElementLayout dl = element_layout(d, d_bind);
    const SetRowsPush push{u32(a.ne[0]), u32(a.ne[1]), u32(d.ne[1]), al.offset, al.nb1, al.type,
                           ids_bind.offset / 4, dl.offset, dl.nb1, dl.type};
    // One workgroup per source row: a KV row is a few thousand elements at most.
    const uint32_t wg = row_workgroup_size(r.info(), r.info().shapes.set_rows_workgroup);
    const ComputePipeline& p = r.pipeline({"set_rows", 3, sizeof(SetRowsPush), {wg}});
    const std::array bindings{a_bind, ids_bind, d_bind};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(a.ne[1]), 1));
}

void record_concat(OpRecorder& r, const Node& n) {
    const Graph& g = r.graph();
    const Tensor& a = g.tensor(n.src[0]);
    const Tensor& b = g.tensor(n.src[1]);
    const Tensor& d = g.tensor(n.dst);
    const TensorBinding a_bind = r.bind(n.src[0]);
    const TensorBinding b_bind = r.bind(n.src[1]);
    const ConcatPush push{u32(d.n_elements()), u32(d.ne[0]), u32(d.ne[1]), u32(d.ne[2]),
                          static_cast<uint32_t>(n.params.dim), u32(a.ne[n.params.dim]),
                          element_layout(a, a_bind), element_layout(b, b_bind)};
    const uint32_t wg = flat_workgroup_size(r.info());
    const ComputePipeline& p = r.pipeline({"concat", 3, sizeof(ConcatPush), {wg}});
    const std::array bindings{a_bind, b_bind, r.bind(n.dst)};
    r.dispatch(p, bindings, push, grid_groups(r.info(), static_cast<uint64_t>(d.n_elements()), wg));
}

}  // namespace

bool supports_rows(const Graph& g, const Node& n, const DeviceInfo& info) {
    if (!info.storage_16bit) return false;
    switch (n.op) {
        case Op::Copy: return supports_copy(g, n, info);
        case Op::SetRows: return supports_set_rows(g, n, info);
        case Op::Concat: return supports_concat(g, n, info);
        default: return false;
    }
}

void record_rows(OpRecorder& r, const Node& n) {
    switch (n.op) {
        case Op::Copy: return record_copy(r, n);
        case Op::SetRows: return record_set_rows(r, n);
        case Op::Concat: return record_concat(r, n);
        default: return;
    }
}

}  // namespace kiln::vk
