#version 450
#include "common.glsl"

// Matrix product for CPU devices (lavapipe): dst[col, row] = dot(w[row], x[col]).
// lavapipe runs the 8 invocations of a subgroup as the lanes of SIMD registers and turns every
// buffer load into a loop over the lanes (per component), so loads dominate: this kernel makes
// each load count. A workgroup is one subgroup of WG lanes (specialization constant 0 = the
// subgroup size, 8); lane l owns weight rows row0 + l + WG * i (i < NUM_ROWS) and all of k, so
// its NUM_ROWS x NUM_COLS sums need no reduction. Per unit of the rows (one or two 32-element
// runs, dequant_units.glsl) the lanes load the x values together (32 / WG floats each per run
// and column) and share them with subgroupBroadcast; each lane decodes its rows' units and
// reuses every weight for NUM_COLS columns. Per invocation the loop runs at most k / 32 times
// (448 for k = 14336). Row groups spread over x and y of the grid, column chunks over z.
// Weight type: one WEIGHT_<TYPE> define (dequant.glsl). Fused projections and the norm
// prologue: matmul_params.glsl.

#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(constant_id = 1) const uint NUM_ROWS = 1;  // per lane
layout(constant_id = 2) const uint NUM_COLS = 1;
layout(constant_id = 3) const bool W_ALIGNED = false;  // see dequant_units.glsl

#include "matmul_params.glsl"
#define KILN_WEIGHT_BINDING 0
#define DQ_LAST_WORD params.w_last_word
#include "dequant.glsl"
#include "dequant_units.glsl"

const uint X_PER_LANE = 32u / gl_WorkGroupSize.x;  // x floats each lane loads per run

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint rows = NUM_ROWS * gl_WorkGroupSize.x;  // weight rows of the workgroup
    const uint out0 = first_out_row(wg, rows);
    if (out0 >= params.n) return;  // the whole workgroup: the grid's last line is partial
    const uint col0 = gl_WorkGroupID.z * NUM_COLS;

    // Rows and columns past the end repeat the last one; their sums are never stored.
    uint w_base[NUM_ROWS];
    [[unroll]] for (uint i = 0u; i < NUM_ROWS; ++i) w_base[i] = weight_row_base(wg, rows, lane + gl_WorkGroupSize.x * i);
    uint x_base[NUM_COLS];
    [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) x_base[c] = x_column_base(min(col0 + c, params.cols - 1u));
    float inv[NUM_COLS];
    [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) inv[c] = 1.0;
    if (NORM) {  // a branch, not a select: without the norm nothing of it may run
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            inv[c] = inv_rms(subgroupAdd(sum_sq_part(x_base[c], lane, gl_WorkGroupSize.x)));
        }
    }

    float acc[NUM_ROWS * NUM_COLS];
    [[unroll]] for (uint i = 0u; i < NUM_ROWS * NUM_COLS; ++i) acc[i] = 0.0;

    const uint units = params.k / (32u * UNIT_RUNS);  // whole units (quantized rows have nothing else)
    for (uint u = 0u; u < units; ++u) {
        const uint block = u / UNITS_PER_BLOCK;
        const uvec2 runs = block * QK + unit_runs(u % UNITS_PER_BLOCK);
        // This lane's share of x: elements run + X_PER_LANE * lane + j of every run and column.
        float xl[NUM_COLS * UNIT_RUNS * X_PER_LANE];
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            [[unroll]] for (uint r = 0u; r < UNIT_RUNS; ++r) {
                [[unroll]] for (uint j = 0u; j < X_PER_LANE; ++j) {
                    xl[(c * UNIT_RUNS + r) * X_PER_LANE + j] = x_value(x_base[c], runs[r] + X_PER_LANE * lane + j, inv[c]);
                }
            }
        }
        vec4 wv[NUM_ROWS * 8u * UNIT_RUNS];
        [[unroll]] for (uint i = 0u; i < NUM_ROWS; ++i) {
            vec4 v[8u * UNIT_RUNS];
            dequant_unit(w_base[i] + block * BLOCK_UNITS, u % UNITS_PER_BLOCK, v);
            [[unroll]] for (uint e = 0u; e < 8u * UNIT_RUNS; ++e) wv[i * 8u * UNIT_RUNS + e] = v[e];
        }
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            vec4 xv[8u * UNIT_RUNS];
            [[unroll]] for (uint e = 0u; e < 32u * UNIT_RUNS; ++e) {
                const uint r = e / 32u, k = e % 32u;
                const float mine = xl[(c * UNIT_RUNS + r) * X_PER_LANE + k % X_PER_LANE];
                xv[e >> 2][e & 3u] = subgroupBroadcast(mine, k / X_PER_LANE);
            }
            [[unroll]] for (uint i = 0u; i < NUM_ROWS; ++i) {
                float t = 0.0;
                [[unroll]] for (uint e = 0u; e < 8u * UNIT_RUNS; ++e) t += dot(wv[i * 8u * UNIT_RUNS + e], xv[e]);
                acc[i * NUM_COLS + c] += t;
            }
        }
    }
#if defined(KILN_WEIGHT_FLOAT)
    // Float rows may end in a partial unit: element by element.
    for (uint e = 32u * units; e < params.k; ++e) {
        [[unroll]] for (uint i = 0u; i < NUM_ROWS; ++i) {
            const float w = weight_at(w_base[i] + e);
            [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) acc[i * NUM_COLS + c] += w * x_value(x_base[c], e, inv[c]);
        }
    }
#endif

    if (params.paired != 0u) {
        // Rows i and i + NUM_ROWS / 2 of this lane are one output's gate and up (NUM_ROWS even).
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            [[unroll]] for (uint i = 0u; i < NUM_ROWS / 2u; ++i) {
                const uint row = out0 + lane + gl_WorkGroupSize.x * i;
                if (row < params.n && col0 + c < params.cols) {
                    store_pair(col0 + c, row, acc[i * NUM_COLS + c], acc[(i + NUM_ROWS / 2u) * NUM_COLS + c]);
                }
            }
        }
        return;
    }
    [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
        [[unroll]] for (uint i = 0u; i < NUM_ROWS; ++i) {
            const uint row = out0 + lane + gl_WorkGroupSize.x * i;
            if (row < params.n && col0 + c < params.cols) {
                store_d(col0 + c, row, acc[i * NUM_COLS + c]);
            }
        }
    }
}
