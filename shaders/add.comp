#version 450
#include "common.glsl"

// Elementwise f32 add with b broadcast over rows of a: c[i] = a[i] + b[i % nb].
// nb == n is a plain add; nb == row length adds one row (e.g. a bias) to every row.

layout(std430, binding = 0) readonly buffer InputA { float a[]; };
layout(std430, binding = 1) readonly buffer InputB { float b[]; };
layout(std430, binding = 2) writeonly buffer Output { float c[]; };

layout(push_constant) uniform Params {
    uint n;   // elements of a and c
    uint nb;  // elements of b, > 0
} params;

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < params.n; i += KILN_GRID_STRIDE_X) {
        c[i] = a[i] + b[i % params.nb];
    }
}
