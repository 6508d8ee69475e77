#version 450
#include "common.glsl"

// Matrix-vector product for few columns: dst[col, row] = dot(w[row], x[col]).
// A workgroup computes NUM_ROWS weight rows for NUM_COLS columns. Its invocations stride over
// the rows' units (one or two 32-element runs, dequant_units.glsl: whole words, scales decoded
// once); each x value is loaded once and used for every row, so loads per multiply-add shrink
// with NUM_ROWS and NUM_COLS. Per invocation the loop runs at most k / (32 * workgroup size)
// times (7 for k = 14336 and 64 invocations), far below lavapipe's loop limit. Partial sums are
// reduced by subgroupAdd and shared memory (USE_SUBGROUP) or a shared-memory tree. Rows spread
// over x and y of the grid, column chunks over z. Weight type: one WEIGHT_<TYPE> define.
// IDOT (quantized weights): x comes as 8-bit blocks and rows are dotted run by run with packed
// integer dots (dequant_int8.glsl); NORM is then quantize_q8.comp's.

#extension GL_EXT_control_flow_attributes : require
#if defined(USE_SUBGROUP)
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(constant_id = 1) const uint NUM_ROWS = 1;
layout(constant_id = 2) const uint NUM_COLS = 1;
layout(constant_id = 3) const bool X_VEC4 = false;
// Smallest subgroup size the device may use: bounds the number of subgroups in a workgroup.
layout(constant_id = 4) const uint MIN_SUBGROUP = 1;
layout(constant_id = 5) const bool W_ALIGNED = false;  // see dequant_units.glsl

#include "matmul_params.glsl"
#define KILN_WEIGHT_BINDING 0
#define DQ_LAST_WORD params.w_last_word
#include "dequant.glsl"
#include "dequant_units.glsl"
#if defined(IDOT)
#define KILN_XQ_BINDING 1
#include "dequant_int8.glsl"
#endif
#if defined(MUL_MAT_ID)
layout(std430, binding = 7) readonly buffer Ids { int ids_data[]; };
#endif

#if defined(USE_SUBGROUP)
shared float partial[((gl_WorkGroupSize.x + MIN_SUBGROUP - 1u) / MIN_SUBGROUP) * NUM_ROWS * NUM_COLS];
#else
shared float partial[gl_WorkGroupSize.x * NUM_ROWS * NUM_COLS];
#endif

// The workgroup's sum for row r and column c once its partial sums are in shared memory.
float row_sum(uint r, uint c) {
    const uint i = r * NUM_COLS + c;
#if defined(USE_SUBGROUP)
    float s = 0.0;
    for (uint sg = 0u; sg < gl_NumSubgroups; ++sg) s += partial[sg * NUM_ROWS * NUM_COLS + i];
    return s;
#else
    return partial[i * gl_WorkGroupSize.x];
#endif
}

// Sum of v over the workgroup, in every invocation; `partial` is free again on return.
float workgroup_total(float v) {
#if defined(USE_SUBGROUP)
    const float s = subgroupAdd(v);
    if (subgroupElect()) partial[gl_SubgroupID] = s;
    barrier();
    float t = 0.0;
    for (uint sg = 0u; sg < gl_NumSubgroups; ++sg) t += partial[sg];
#else
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (gl_LocalInvocationID.x < s) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + s];
        barrier();
    }
    const float t = partial[0];
#endif
    barrier();
    return t;
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint out0 = first_out_row(wg, NUM_ROWS);
    if (out0 >= params.n) return;  // the whole workgroup: the grid's last line is partial
    const uint col0 = gl_WorkGroupID.z * NUM_COLS;

    // Rows and columns past the end repeat the last one; their sums are never stored.
    uint w_base[NUM_ROWS];
    [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) w_base[r] = weight_row_base(wg, NUM_ROWS, r);
    uint x_base[NUM_COLS];
#if defined(MUL_MAT_ID)
    // One column per workgroup (NUM_COLS = 1): its expert's rows, its token's x; an expert
    // outside the weights gives a zero column.
    const int expert = ids_data[params.ids_offset + col0];
    const bool known_expert = expert >= 0 && uint(expert) < params.experts;
    [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) w_base[r] += (known_expert ? uint(expert) : 0u) * params.expert_stride;
    x_base[0] = x_column_base((params.m == 1u ? 0u : col0 % params.used) + (col0 / params.used) * params.m);
#else
    [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) x_base[c] = x_column_base(min(col0 + c, params.cols - 1u));
#endif
    float inv[NUM_COLS];
    [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) inv[c] = 1.0;
    if (NORM) {  // a branch, not a select: without the norm nothing of it may run
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            inv[c] = inv_rms(workgroup_total(sum_sq_part(x_base[c], tid, gl_WorkGroupSize.x)));
        }
    }

    float acc[NUM_ROWS * NUM_COLS];
    [[unroll]] for (uint i = 0u; i < NUM_ROWS * NUM_COLS; ++i) acc[i] = 0.0;

#if defined(IDOT)
    // x is quantize_q8.comp's blocks: run by run, each weight row's run as bytes against each
    // column's block (dequant_int8.glsl).
    const uint runs = params.k / 32u;
    for (uint run = tid; run < runs; run += gl_WorkGroupSize.x) {
        const uint block = run / INT8_RUNS_PER_BLOCK;
        uint wq[NUM_ROWS][8];
        vec4 wab[NUM_ROWS];
        [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) {
            int8_run(w_base[r] + block * BLOCK_UNITS, run % INT8_RUNS_PER_BLOCK, wq[r], wab[r]);
        }
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            const uint xb = min(col0 + c, params.cols - 1u) * runs + run;
            const uvec4 x0 = xq_data[params.xq_offset + 2u * xb], x1 = xq_data[params.xq_offset + 2u * xb + 1u];
            const vec4 xm = xm_data[params.xm_offset + xb];
            [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) {
                acc[r * NUM_COLS + c] += int8_run_dot(wq[r], wab[r], x0, x1, xm);
            }
        }
    }
#else
    const uint units = params.k / (32u * UNIT_RUNS);  // whole units (quantized rows have nothing else)
    for (uint u = tid; u < units; u += gl_WorkGroupSize.x) {
        const uint block = u / UNITS_PER_BLOCK;
        const uvec2 runs = block * QK + unit_runs(u % UNITS_PER_BLOCK);
        // The rows' weights first, then x one vec4 at a time: registers hold NUM_ROWS units.
        vec4 wv[NUM_ROWS * 8u * UNIT_RUNS];
        [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) {
            vec4 v[8u * UNIT_RUNS];
            dequant_unit(w_base[r] + block * BLOCK_UNITS, u % UNITS_PER_BLOCK, v);
            [[unroll]] for (uint e = 0u; e < 8u * UNIT_RUNS; ++e) wv[r * 8u * UNIT_RUNS + e] = v[e];
        }
        [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) {
            [[unroll]] for (uint e = 0u; e < 8u * UNIT_RUNS; ++e) {
                const vec4 xv = x_value4(x_base[c], runs[e >> 3] + 4u * (e & 7u), inv[c], X_VEC4);
                [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) {
                    acc[r * NUM_COLS + c] += dot(wv[r * 8u * UNIT_RUNS + e], xv);
                }
            }
        }
    }
#if defined(KILN_WEIGHT_FLOAT)
    // Float rows may end in a partial sub-block: element by element.
    for (uint e = 32u * units + tid; e < params.k; e += gl_WorkGroupSize.x) {
        [[unroll]] for (uint r = 0u; r < NUM_ROWS; ++r) {
            const float w = weight_at(w_base[r] + e);
            [[unroll]] for (uint c = 0u; c < NUM_COLS; ++c) acc[r * NUM_COLS + c] += w * x_value(x_base[c], e, inv[c]);
        }
    }
#endif
#endif  // IDOT

    // Sums of output i = r * NUM_COLS + c gathered in shared memory, then each invocation
    // stores outputs o = tid, tid + workgroup size, ... ordered row-fastest (o = c * rows + r)
    // so neighbouring invocations write neighbouring rows.
    const uint outputs = NUM_ROWS * NUM_COLS;
#if defined(USE_SUBGROUP)
    [[unroll]] for (uint i = 0u; i < outputs; ++i) {
        const float s = subgroupAdd(acc[i]);
        if (subgroupElect()) partial[gl_SubgroupID * outputs + i] = s;
    }
#else
    [[unroll]] for (uint i = 0u; i < outputs; ++i) partial[i * gl_WorkGroupSize.x + tid] = acc[i];
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (tid < s) {
            [[unroll]] for (uint i = 0u; i < outputs; ++i) {
                partial[i * gl_WorkGroupSize.x + tid] += partial[i * gl_WorkGroupSize.x + tid + s];
            }
        }
        barrier();
    }
#endif
    barrier();
    // Paired: rows r and r + NUM_ROWS / 2 are one output's gate and up (NUM_ROWS even).
    const uint out_rows = params.paired != 0u ? NUM_ROWS / 2u : NUM_ROWS;
    for (uint o = tid; o < out_rows * NUM_COLS; o += gl_WorkGroupSize.x) {
        const uint r = o % out_rows, c = o / out_rows;
        if (out0 + r >= params.n || col0 + c >= params.cols) continue;
        if (params.paired != 0u) {
            store_pair(col0 + c, out0 + r, row_sum(r, c), row_sum(r + NUM_ROWS / 2u, c));
        } else {
#if defined(MUL_MAT_ID)
            store_d(col0 + c, out0 + r, known_expert ? row_sum(r, c) : 0.0);
#else
            store_d(col0 + c, out0 + r, row_sum(r, c));
#endif
        }
    }
}
