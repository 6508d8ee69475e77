#version 450
#include "common.glsl"

// Activations of an integer-dot matmul as 8-bit blocks: each 32-element block of each x column
// becomes d = max|x| / 127 and 32 signed bytes round(x / d), stored with d * (sum of the bytes)
// of each 16-element half (dequant_int8.glsl's int8_run_dot reads them). With NORM, x is the
// input of a fused rms_norm + mul and is normalised first (matmul_params.glsl), so the norm
// costs no dispatch of its own. One workgroup per column (grid-strided), an invocation per block
// (at most k / (32 * workgroup size) iterations: 7 for k = 14336 and 64 invocations).
// Output (binding 2): the blocks' bytes from uvec4 xq_offset on, two uvec4s per block, column
// after column; their (d, s_lo, s_hi, 0) from vec4 xm_offset on.

#extension GL_EXT_control_flow_attributes : require

layout(constant_id = 1) const bool X_VEC4 = false;

#include "matmul_params.glsl"
#include "workgroup_sum.glsl"

layout(std430, binding = 2) writeonly buffer QuantBytes { uvec4 q_out[]; };
layout(std430, binding = 2) writeonly buffer QuantMeta { vec4 m_out[]; };

// x * inv_d rounded half away from zero (as the CPU's activation quantizer rounds).
ivec4 round_bytes(vec4 x, float inv_d) {
    const vec4 v = x * inv_d;
    return ivec4(clamp(sign(v) * floor(abs(v) + 0.5), -127.0, 127.0));
}

uint pack_bytes(ivec4 q) {
    const uvec4 b = uvec4(q) & 0xffu;
    return b.x | (b.y << 8) | (b.z << 16) | (b.w << 24);
}

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint blocks = params.k / 32u;
    for (uint col = gl_WorkGroupID.x; col < params.cols; col += gl_NumWorkGroups.x) {
        const uint base = x_column_base(col);
        float inv = 1.0;
        if (NORM) inv = inv_rms(kiln_workgroup_sum(sum_sq_part(base, tid, gl_WorkGroupSize.x)));
        for (uint blk = tid; blk < blocks; blk += gl_WorkGroupSize.x) {
            vec4 v[8];
            float amax = 0.0;
            [[unroll]] for (uint i = 0u; i < 8u; ++i) {
                v[i] = x_value4(base, 32u * blk + 4u * i, inv, X_VEC4);
                const vec4 a = abs(v[i]);
                amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
            }
            const float d = amax / 127.0;
            const float inv_d = d > 0.0 ? 1.0 / d : 0.0;
            uint w[8];
            ivec2 sums = ivec2(0);
            [[unroll]] for (uint i = 0u; i < 8u; ++i) {
                const ivec4 q = round_bytes(v[i], inv_d);
                sums[i >> 2] += q.x + q.y + q.z + q.w;
                w[i] = pack_bytes(q);
            }
            const uint at = col * blocks + blk;
            q_out[params.xq_offset + 2u * at] = uvec4(w[0], w[1], w[2], w[3]);
            q_out[params.xq_offset + 2u * at + 1u] = uvec4(w[4], w[5], w[6], w[7]);
            m_out[params.xm_offset + at] = vec4(d, d * float(sums.x), d * float(sums.y), 0.0);
        }
    }
}
