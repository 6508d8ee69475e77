// Sum over one workgroup through shared memory, for kernels that spread a row across the
// workgroup's invocations. The workgroup size (specialization constant 0) must be a power of
// two. Every invocation must call it (it contains barriers); all get the total.
#ifndef KILN_WORKGROUP_SUM_GLSL
#define KILN_WORKGROUP_SUM_GLSL

shared float kiln_sum_partial[gl_WorkGroupSize.x];

float kiln_workgroup_sum(float v) {
    const uint t = gl_LocalInvocationID.x;
    kiln_sum_partial[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
        if (t < s) kiln_sum_partial[t] += kiln_sum_partial[t + s];
        barrier();
    }
    const float total = kiln_sum_partial[0];
    barrier();  // the array is reused by the next call
    return total;
}

#endif
