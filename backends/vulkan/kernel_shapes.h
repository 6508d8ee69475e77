#pragma once
// Workgroup and tile sizes of the kernels, one row per device class, chosen from the device at
// start-up (DeviceInfo::shapes) and read by the op files instead of constants of their own;
// `kiln devices` prints the row a device gets. Device limits still cap each size where it is
// used (float_layout.h). Only the CPU row (lavapipe) is measured; the GPU rows start from the
// same sizes until a GPU session tunes them, one row at a time.
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::vk {

enum class DeviceClass { nvidia, amd, intel, cpu, other };

// Tiled matmul: bm x bn output tile per workgroup, bk of k staged in shared memory, tm x tn
// outputs per invocation.
struct TileShape {
    uint32_t bm, bn, bk, tm, tn;
    uint32_t invocations() const { return (bm / tm) * (bn / tn); }
    uint64_t shared_bytes() const { return 4ull * (bk * (bm + 1 + bn + 1) + bn); }
};

struct KernelShapes {
    uint32_t flat_workgroup;        // one invocation per element: elementwise, copy, concat
    uint32_t rope_workgroup;        // one invocation per rotated pair
    uint32_t set_rows_workgroup;    // one workgroup per KV row written
    uint32_t get_rows_workgroup;
    uint32_t attention_tile;        // keys per flash-attention tile (its workgroup size)
    uint32_t attention_reduce_workgroup;
    uint32_t lanes_rows_decode;     // matmul lanes: rows per lane for one column
    uint32_t lanes_rows, lanes_cols;  // ... and per lane x columns for several
    uint32_t vec_min_invocations, vec_max_invocations;  // matmul vec: a subgroup or more, clamped
    uint32_t vec_rows;
    uint32_t vec_max_cols;          // beyond this many columns the tiled kernel takes over
    uint32_t quantize_workgroup;    // integer-dot matmuls: x to 8-bit blocks, a workgroup per column (power of two)
    // From this many columns on, a device with accelerated integer dots multiplies quantized
    // weights with them (fewer columns keep the float kernels: the quantize pass is a dispatch
    // and a barrier more per matmul input, which decode feels most).
    uint32_t idot_min_cols;
    // Up to this many columns a matmul kernel normalises x itself (a folded rms_norm: each
    // workgroup reads its columns twice); beyond it the norm is a kernel of its own.
    uint32_t norm_fold_max_cols;
    TileShape tiles;
};

// By vendor id (NVIDIA, AMD, Intel) and device type (a CPU implementation such as lavapipe).
DeviceClass device_class(uint32_t vendor_id, bool is_cpu);
const KernelShapes& kernel_shapes(DeviceClass c);
std::string_view to_string(DeviceClass c);
// One line: "flat 256, rope 256, ... tiles 128x128x16 (8x8 per invocation)".
std::string describe(const KernelShapes& s);

}  // namespace kiln::vk
