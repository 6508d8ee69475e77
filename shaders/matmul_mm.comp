#version 450
#include "common.glsl"

// Tiled matrix-matrix product for many columns (prompts): dst[col, row] = dot(w[row], x[col]).
// A workgroup computes a BM x BN tile of dst (BM weight rows, BN columns). Per step of BK
// elements along k it dequantizes a BM x BK tile of w and copies a BN x BK tile of x into
// shared memory (k-major), then each invocation accumulates a TM x TN register tile, its rows
// and columns strided by BM/TM and BN/TN so neighbouring invocations read neighbouring words.
// The workgroup size must be (BM/TM) * (BN/TN). Per invocation the k loop runs k/BK times (448
// for k = 14336); the inner loops have constant trip counts and are unrolled. Rows go along
// x of the grid, column tiles along y. Weight type: one WEIGHT_<TYPE> define (dequant.glsl).
// IDOT (quantized weights): x comes as quantize_q8.comp's 8-bit blocks and each step is one
// 32-element run of rows and columns as bytes, dotted with packed integer dots
// (dequant_int8.glsl); the tiles are then uint words, and NORM is quantize_q8.comp's.

#extension GL_EXT_control_flow_attributes : require

#define KILN_WEIGHT_BINDING 0
#include "dequant.glsl"
#include "matmul_params.glsl"

layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;  // divides 32 (runs of 4 stay inside a block)
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const bool X_VEC4 = false;

const uint RUNS_PER_ROW = BK / 4u;
const uint W_RUNS = BM * RUNS_PER_ROW / gl_WorkGroupSize.x;  // runs of 4 each invocation loads
const uint X_RUNS = BN * RUNS_PER_ROW / gl_WorkGroupSize.x;
const uint W_STRIDE = BM + 1u;  // padding spreads the k-major stores over banks
const uint X_STRIDE = BN + 1u;

#if defined(MUL_MAT_ID)
// Mixture of experts, prompts: the workgroup computes expert gl_WorkGroupID.z's rows for BN of
// that expert's columns (tile gl_WorkGroupID.y), as moe_group.comp listed them in binding 7;
// group `experts` holds the columns whose id names no expert, which get zeros.
layout(std430, binding = 7) readonly buffer Groups { uint group_data[]; };
uint group_start(uint e) { return group_data[params.groups_offset + e]; }
uint group_column(uint i) { return group_data[params.groups_offset + params.experts + 2u + i]; }
// x's column for output column c (slot c % used of token c / used).
uint expert_x_column(uint c) { return (params.m == 1u ? 0u : c % params.used) + (c / params.used) * params.m; }
#endif

#if defined(IDOT)
layout(constant_id = 7) const bool W_ALIGNED = false;  // see dequant_units.glsl
#define DQ_LAST_WORD params.w_last_word
#define KILN_XQ_BINDING 1
#include "dequant_units.glsl"
#include "dequant_int8.glsl"
// Per step one 32-element run: each tile row's bytes (word-major) and (a, c), each tile
// column's bytes and block meta.
const uint Q_W_STRIDE = BM + 1u;
const uint Q_X_STRIDE = BN + 1u;
shared uint wq_tile[8u * Q_W_STRIDE];
shared vec4 wab_tile[BM];
shared uint xq_tile[8u * Q_X_STRIDE];
shared vec4 xm_tile[BN];
#else
shared float w_tile[BK * W_STRIDE];
shared float x_tile[BK * X_STRIDE];
shared float col_inv[BN];  // NORM: each tile column's 1/rms
#endif

// Elements p..p+3 of weight row `row` (p a multiple of 4; zero from k on for float weights).
vec4 w_run(uint row_base, uint p) {
#if defined(KILN_WEIGHT_FLOAT)
    vec4 v = vec4(0.0);
    [[unroll]] for (uint i = 0u; i < 4u; ++i) {
        if (p + i < params.k) v[i] = weight_at(row_base + p + i);
    }
    return v;
#else
    return dequant4(row_base + (p / QK) * BLOCK_UNITS, p % QK);
#endif
}

vec4 x_run(uint base, uint p, float inv) {
#if defined(KILN_WEIGHT_FLOAT)
    if (p + 4u > params.k) {
        vec4 v = vec4(0.0);
        [[unroll]] for (uint i = 0u; i < 4u; ++i) {
            if (p + i < params.k) v[i] = x_value(base, p + i, inv);
        }
        return v;
    }
#endif
    return x_value4(base, p, inv, X_VEC4);
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint out0 = first_out_row(gl_WorkGroupID.x, BM);
    const uint col0 = gl_WorkGroupID.y * BN;
    const uint tr = tid % (BM / TM);
    const uint tc = tid / (BM / TM);
    float acc[TM * TN];
    [[unroll]] for (uint i = 0u; i < TM * TN; ++i) acc[i] = 0.0;

#if defined(IDOT)
    // x as quantize_q8.comp's blocks, a run of 32 elements per step.
    const uint runs = params.k / 32u;
    for (uint run = 0u; run < runs; ++run) {
        const uint block = run / INT8_RUNS_PER_BLOCK;
        for (uint r = tid; r < BM; r += gl_WorkGroupSize.x) {
            uint q[8];
            vec4 ab;
            int8_run(weight_row_base(gl_WorkGroupID.x, BM, r) + block * BLOCK_UNITS, run % INT8_RUNS_PER_BLOCK, q, ab);
            [[unroll]] for (uint i = 0u; i < 8u; ++i) wq_tile[i * Q_W_STRIDE + r] = q[i];
            wab_tile[r] = ab;
        }
        for (uint c = tid; c < BN; c += gl_WorkGroupSize.x) {
            const uint xb = min(col0 + c, params.cols - 1u) * runs + run;
            const uvec4 x0 = xq_data[params.xq_offset + 2u * xb], x1 = xq_data[params.xq_offset + 2u * xb + 1u];
            [[unroll]] for (uint i = 0u; i < 4u; ++i) {
                xq_tile[i * Q_X_STRIDE + c] = x0[i];
                xq_tile[(i + 4u) * Q_X_STRIDE + c] = x1[i];
            }
            xm_tile[c] = xm_data[params.xm_offset + xb];
        }
        barrier();
        uint xq[TN][8];
        vec4 xm[TN];
        [[unroll]] for (uint j = 0u; j < TN; ++j) {
            const uint c = tc + j * (BN / TN);
            [[unroll]] for (uint i = 0u; i < 8u; ++i) xq[j][i] = xq_tile[i * Q_X_STRIDE + c];
            xm[j] = xm_tile[c];
        }
        [[unroll]] for (uint i = 0u; i < TM; ++i) {
            const uint r = tr + i * (BM / TM);
            uint wq[8];
            [[unroll]] for (uint w = 0u; w < 8u; ++w) wq[w] = wq_tile[w * Q_W_STRIDE + r];
            const vec4 ab = wab_tile[r];
            [[unroll]] for (uint j = 0u; j < TN; ++j) {
                acc[i * TN + j] += int8_run_dot(wq, ab, uvec4(xq[j][0], xq[j][1], xq[j][2], xq[j][3]),
                                                uvec4(xq[j][4], xq[j][5], xq[j][6], xq[j][7]), xm[j]);
            }
        }
        barrier();
    }
#else
#if defined(MUL_MAT_ID)
    const uint expert = gl_WorkGroupID.z;
    const uint first = group_start(expert), count = group_start(expert + 1u) - first;
    if (col0 >= count) return;  // the whole workgroup: this expert has fewer columns
#endif

    // The runs this invocation loads each step: run i is (row or column  r / RUNS_PER_ROW,
    // k offset 4 * (r % RUNS_PER_ROW)) with r = tid + i * workgroup size. Rows and columns past
    // the end repeat the last one; their results are never stored.
    uint w_base[W_RUNS];
    [[unroll]] for (uint i = 0u; i < W_RUNS; ++i) {
        w_base[i] = weight_row_base(gl_WorkGroupID.x, BM, (tid + i * gl_WorkGroupSize.x) / RUNS_PER_ROW);
#if defined(MUL_MAT_ID)
        w_base[i] += min(expert, params.experts - 1u) * params.expert_stride;
#endif
    }
    uint x_base[X_RUNS];
    [[unroll]] for (uint i = 0u; i < X_RUNS; ++i) {
#if defined(MUL_MAT_ID)
        const uint local = min(col0 + (tid + i * gl_WorkGroupSize.x) / RUNS_PER_ROW, count - 1u);
        x_base[i] = x_column_base(expert_x_column(group_column(first + local)));
#else
        const uint col = min(col0 + (tid + i * gl_WorkGroupSize.x) / RUNS_PER_ROW, params.cols - 1u);
        x_base[i] = x_column_base(col);
#endif
    }
    if (NORM) {
        // `parts` invocations sum each column's squares; x_tile holds their partial sums.
        const uint parts = clamp(gl_WorkGroupSize.x / BN, 1u, BK);
        for (uint slot = tid; slot < parts * BN; slot += gl_WorkGroupSize.x) {
            const uint base = x_column_base(min(col0 + slot % BN, params.cols - 1u));
            x_tile[slot] = sum_sq_part(base, slot / BN, parts);
        }
        barrier();
        for (uint c = tid; c < BN; c += gl_WorkGroupSize.x) {
            float s = 0.0;
            for (uint part = 0u; part < parts; ++part) s += x_tile[part * BN + c];
            col_inv[c] = inv_rms(s);
        }
        barrier();
    }
    const uint kq = 4u * (tid % RUNS_PER_ROW);  // same for every run: the workgroup size is a multiple of RUNS_PER_ROW

    for (uint k0 = 0u; k0 < params.k; k0 += BK) {
        [[unroll]] for (uint i = 0u; i < W_RUNS; ++i) {
            const uint r = (tid + i * gl_WorkGroupSize.x) / RUNS_PER_ROW;
            const vec4 v = w_run(w_base[i], k0 + kq);
            [[unroll]] for (uint e = 0u; e < 4u; ++e) w_tile[(kq + e) * W_STRIDE + r] = v[e];
        }
        [[unroll]] for (uint i = 0u; i < X_RUNS; ++i) {
            const uint c = (tid + i * gl_WorkGroupSize.x) / RUNS_PER_ROW;
            const vec4 v = x_run(x_base[i], k0 + kq, NORM ? col_inv[c] : 1.0);
            [[unroll]] for (uint e = 0u; e < 4u; ++e) x_tile[(kq + e) * X_STRIDE + c] = v[e];
        }
        barrier();
        [[unroll]] for (uint kk = 0u; kk < BK; ++kk) {
            float a[TM], b[TN];
            [[unroll]] for (uint i = 0u; i < TM; ++i) a[i] = w_tile[kk * W_STRIDE + tr + i * (BM / TM)];
            [[unroll]] for (uint j = 0u; j < TN; ++j) b[j] = x_tile[kk * X_STRIDE + tc + j * (BN / TN)];
            [[unroll]] for (uint i = 0u; i < TM; ++i) {
                [[unroll]] for (uint j = 0u; j < TN; ++j) acc[i * TN + j] += a[i] * b[j];
            }
        }
        barrier();
    }
#endif

    [[unroll]] for (uint j = 0u; j < TN; ++j) {
#if defined(MUL_MAT_ID)
        // This expert's column: zeros for the group of unknown experts.
        if (col0 + tc + j * (BN / TN) >= count) continue;
        const uint col = group_column(first + col0 + tc + j * (BN / TN));
        if (expert == params.experts) {
            [[unroll]] for (uint i = 0u; i < TM; ++i) acc[i * TN + j] = 0.0;
        }
#else
        const uint col = col0 + tc + j * (BN / TN);
        if (col >= params.cols) continue;
#endif
        if (params.paired != 0u) {
            // Rows i and i + TM / 2 are one output's gate and up (TM even).
            [[unroll]] for (uint i = 0u; i < TM / 2u; ++i) {
                const uint row = out0 + tr + i * (BM / TM);
                if (row < params.n) store_pair(col, row, acc[i * TN + j], acc[(i + TM / 2u) * TN + j]);
            }
            continue;
        }
        [[unroll]] for (uint i = 0u; i < TM; ++i) {
            const uint row = out0 + tr + i * (BM / TM);
            if (row < params.n) store_d(col, row, acc[i * TN + j]);
        }
    }
}
