// Activation functions in f32, written to stay finite where the math is finite: no tanh (whose
// naive exp form gives Inf/Inf = NaN for large arguments), only x / (1 + exp(-t)).
#ifndef KILN_ACTIVATIONS_GLSL
#define KILN_ACTIVATIONS_GLSL

// x * sigmoid(x)
float kiln_silu(float x) { return x / (1.0 + exp(-x)); }

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), rewritten as x * sigmoid(2u): the same
// function, but accurate for large negative x where 1 + tanh(u) cancels.
float kiln_gelu(float x) {
    const float two_sqrt_2_over_pi = 1.5957691216057308;  // 2 * sqrt(2 / pi)
    const float u2 = two_sqrt_2_over_pi * (x + 0.044715 * x * x * x);
    return x / (1.0 + exp(-u2));
}

#endif
