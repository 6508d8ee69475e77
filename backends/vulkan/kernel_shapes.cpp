#include "backends/vulkan/kernel_shapes.h"

namespace kiln::vk {
namespace {

// lanes: every loaded x float serves `rows` rows and every weight word `cols` columns; more of
// either means fewer loads per multiply-add but longer pipeline compiles (3 to 8 s on lavapipe
// for 8 x 8). Decode (one column) is bound by the weight loads: 4 rows per lane.
// vec: 64+ invocations (2 subgroups on NVIDIA) split k, 2 rows, up to 8 columns.
// tiles: 128 x 128, 8 x 8 per invocation (256 invocations), 16.5 KiB of shared memory.
constexpr KernelShapes kDefault{
    .flat_workgroup = 256,
    .rope_workgroup = 256,
    .set_rows_workgroup = 256,
    .get_rows_workgroup = 64,
    .attention_tile = 128,
    .attention_reduce_workgroup = 64,
    .lanes_rows_decode = 4,
    .lanes_rows = 8,
    .lanes_cols = 8,
    .vec_min_invocations = 64,
    .vec_max_invocations = 256,
    .vec_rows = 2,
    .vec_max_cols = 8,
    .quantize_workgroup = 64,
    .idot_min_cols = 9,
    .norm_fold_max_cols = 8,
    .tiles = {128, 128, 16, 8, 8},
};

// One row per class (see the header: all but the CPU row await tuning on their GPUs).
constexpr KernelShapes kNvidia = kDefault;
constexpr KernelShapes kAmd = kDefault;
constexpr KernelShapes kIntel = kDefault;
// lavapipe: x loads cost as much as weight loads once a lane serves several columns; folding
// the norm doubles them (TinyLlama pp32 -9%), so only decode folds it.
constexpr KernelShapes kCpu = [] {
    KernelShapes s = kDefault;
    s.norm_fold_max_cols = 1;
    return s;
}();
constexpr KernelShapes kOther = kDefault;

}  // namespace

DeviceClass device_class(uint32_t vendor_id, bool is_cpu) {
    if (is_cpu) return DeviceClass::cpu;
    switch (vendor_id) {
        case 0x10DE: return DeviceClass::nvidia;
        case 0x1002: case 0x1022: return DeviceClass::amd;
        case 0x8086: return DeviceClass::intel;
        default: return DeviceClass::other;
    }
}

const KernelShapes& kernel_shapes(DeviceClass c) {
    switch (c) {
        case DeviceClass::nvidia: return kNvidia;
        case DeviceClass::amd: return kAmd;
        case DeviceClass::intel: return kIntel;
        case DeviceClass::cpu: return kCpu;
        case DeviceClass::other: return kOther;
    }
    return kOther;
}

std::string_view to_string(DeviceClass c) {
    switch (c) {
        case DeviceClass::nvidia: return "nvidia";
        case DeviceClass::amd: return "amd";
        case DeviceClass::intel: return "intel";
        case DeviceClass::cpu: return "cpu";
        case DeviceClass::other: return "other";
    }
    return "other";
}

std::string describe(const KernelShapes& s) {
    const auto n = [](uint32_t v) { return std::to_string(v); };
    return "flat " + n(s.flat_workgroup) + ", rope " + n(s.rope_workgroup) + ", set_rows " + n(s.set_rows_workgroup) +
           ", get_rows " + n(s.get_rows_workgroup) + ", attention tile " + n(s.attention_tile) + " (reduce " +
           n(s.attention_reduce_workgroup) + "), matmul lanes " + n(s.lanes_rows_decode) + "x1 / " + n(s.lanes_rows) +
           "x" + n(s.lanes_cols) + ", vec " + n(s.vec_rows) + " rows x " + n(s.vec_min_invocations) + ".." +
           n(s.vec_max_invocations) + " invocations up to " + n(s.vec_max_cols) +
           " columns, integer dots from " + n(s.idot_min_cols) + " columns (quantize " + n(s.quantize_workgroup) +
           "), norm folded up to " + n(s.norm_fold_max_cols) + " columns, tiles " + n(s.tiles.bm) +
           "x" + n(s.tiles.bn) + "x" + n(s.tiles.bk) + " (" + n(s.tiles.tm) + "x" + n(s.tiles.tn) + " per invocation)";
}

}  // namespace kiln::vk
