#version 450
#include "common.glsl"

// A mixture-of-experts step's output columns grouped by expert, for the tiled mul_mat_id
// (matmul_mm.comp with MUL_MAT_ID): start[e] is where expert e's columns begin in order[], and
// order[] lists the columns (slot + used * token) expert by expert; columns whose id names no
// expert form a last group (e = experts), whose outputs the matmul zeroes. One workgroup: counts
// by shared atomics, a serial prefix over the experts, then each column takes its place. The
// order within a group is not fixed, and need not be: each column's sums are its own.
// Output (binding 1, uints from g_offset): start[experts + 2], then order[columns].

layout(std430, binding = 0) readonly buffer Ids { int ids[]; };
layout(std430, binding = 1) writeonly buffer Groups { uint g[]; };

layout(push_constant) uniform Params {
    uint ids_offset;  // ints
    uint columns;
    uint experts;     // at most 1024 (kMaxExperts)
    uint g_offset;    // uints
} p;

shared uint counts[1025];  // per group, then its next free place

uint group_of(uint c) {
    const int e = ids[p.ids_offset + c];
    return e >= 0 && uint(e) < p.experts ? uint(e) : p.experts;
}

void main() {
    const uint t = gl_LocalInvocationID.x;
    for (uint e = t; e <= p.experts; e += gl_WorkGroupSize.x) counts[e] = 0u;
    barrier();
    for (uint c = t; c < p.columns; c += gl_WorkGroupSize.x) atomicAdd(counts[group_of(c)], 1u);
    barrier();
    if (t == 0u) {
        uint running = 0u;
        for (uint e = 0u; e <= p.experts; ++e) {
            g[p.g_offset + e] = running;
            const uint n = counts[e];
            counts[e] = running;
            running += n;
        }
        g[p.g_offset + p.experts + 1u] = running;
    }
    barrier();
    const uint order = p.g_offset + p.experts + 2u;
    for (uint c = t; c < p.columns; c += gl_WorkGroupSize.x) g[order + atomicAdd(counts[group_of(c)], 1u)] = c;
}
