#version 450
#include "common.glsl"

// Per-row normalisation; a is f32, f16 or bf16 (rows contiguous, rows possibly strided), out is
// packed f32. Variants (shaders/variants/norm.cmake):
//   norm_rms  (RMS_NORM):  out = a / sqrt(mean(a^2) + eps)
//   norm_mean (MEAN_NORM): out = (a - mean) / sqrt(mean((a - mean)^2) + eps), two passes like the
//                          reference (no E[a^2] - mean^2 cancellation)
//   norm_rms_mul (RMS_NORM, MUL_WEIGHT): norm_rms times a weight row w[i] (f32/f16/bf16): the
//                          fused rms_norm + mul of every decoder block (ops/fused.cpp); the product
//                          is rounded exactly as the two nodes round it
// One workgroup per row (grid-stride over rows); its invocations stride along the row and
// reduce through shared memory, so a row of 8192 costs each invocation 8192 / workgroup steps.

#include "float_tensor.glsl"
#include "workgroup_sum.glsl"

KILN_FLOAT_INPUT(0, a)
layout(std430, binding = 1) writeonly buffer Output { float out_f32[]; };
#if defined(MUL_WEIGHT)
KILN_FLOAT_INPUT(2, w)
#endif

layout(push_constant) uniform Params {
    uint ne0, ne1, ne2;  // a's shape (ne3 = rows / (ne1 * ne2))
    uint rows;
    uint a_offset;             // elements, from the binding's start
    uint a_nb1, a_nb2, a_nb3;  // strides in elements
    uint a_type;
    float eps;
#if defined(MUL_WEIGHT)
    uint w_offset;  // elements, from the binding's start; w is one contiguous row of ne0
    uint w_type;
#endif
} p;

// The normalised value as the rms_norm node stores it, then times w as the mul node computes it.
float weighted(float normed, uint i) {
#if defined(MUL_WEIGHT)
    return normed * w_load(p.w_type, p.w_offset + i);
#else
    return normed;
#endif
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    const uint step = gl_WorkGroupSize.x;
    const float n = float(p.ne0);
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint i1 = row % p.ne1;
        const uint i2 = (row / p.ne1) % p.ne2;
        const uint i3 = row / (p.ne1 * p.ne2);
        const uint src = p.a_offset + i1 * p.a_nb1 + i2 * p.a_nb2 + i3 * p.a_nb3;
        const uint dst = row * p.ne0;
#if defined(RMS_NORM)
        float sum_sq = 0.0;
        for (uint i = t; i < p.ne0; i += step) {
            const float x = a_load(p.a_type, src + i);
            sum_sq += x * x;
        }
        const float s = 1.0 / sqrt(kiln_workgroup_sum(sum_sq) / n + p.eps);
        for (uint i = t; i < p.ne0; i += step) out_f32[dst + i] = weighted(a_load(p.a_type, src + i) * s, i);
#elif defined(MEAN_NORM)
        float sum = 0.0;
        for (uint i = t; i < p.ne0; i += step) sum += a_load(p.a_type, src + i);
        const float mean = kiln_workgroup_sum(sum) / n;
        float sum_sq = 0.0;
        for (uint i = t; i < p.ne0; i += step) {
            const float d = a_load(p.a_type, src + i) - mean;
            sum_sq += d * d;
        }
        const float s = 1.0 / sqrt(kiln_workgroup_sum(sum_sq) / n + p.eps);
        for (uint i = t; i < p.ne0; i += step) out_f32[dst + i] = (a_load(p.a_type, src + i) - mean) * s;
#else
#error "norm.comp needs RMS_NORM or MEAN_NORM"
#endif
    }
}
