#version 450
#include "common.glsl"

// Merges flash_attn.comp's split partials: one workgroup per (query head, token) =
// gl_WorkGroupID (h, t); invocations stride over the dv output columns. Each split s left
// (m_s, l_s, acc_s[dv]) relative to its own max m_s; with M = max m_s and w_s = exp(m_s - M),
// out = sum_s w_s acc_s / sum_s w_s l_s. A split that saw no key has m_s = -inf and weighs 0;
// a query no split saw yields zeros.

layout(std430, binding = 0) readonly buffer Partials { float part[]; };
layout(std430, binding = 1) writeonly buffer OutBuf { float o[]; };

layout(push_constant) uniform Params {
    uint part_off;  // bytes
    uint o_off, o_nb1, o_nb2;  // bytes
    uint dv;
    uint hq;
    uint splits;
} p;

const uint WG = gl_WorkGroupSize.x;
#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
    const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
    const uint rec = p.dv + 2;
    const uint base = (p.part_off >> 2) + (t * p.hq + h) * p.splits * rec;

    float mx = NEG_INF;
    for (uint s = 0; s < p.splits; ++s) mx = max(mx, part[base + s * rec]);
    float sum = 0.0;
    if (mx != NEG_INF) {
        for (uint s = 0; s < p.splits; ++s) {
            const float ms = part[base + s * rec];
            if (ms != NEG_INF) sum += exp(ms - mx) * part[base + s * rec + 1];
        }
    }

    const uint ob = (p.o_off + h * p.o_nb1 + t * p.o_nb2) >> 2;
    for (uint c = gl_LocalInvocationID.x; c < p.dv; c += WG) {
        float acc = 0.0;
        if (sum > 0.0) {
            for (uint s = 0; s < p.splits; ++s) {
                const float ms = part[base + s * rec];
                if (ms != NEG_INF) acc += exp(ms - mx) * part[base + s * rec + 2 + c];
            }
        }
        o[ob + c] = sum > 0.0 ? acc / sum : 0.0;
    }
}
