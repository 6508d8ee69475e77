#version 450
#include "common.glsl"

// Rotary position embedding, f32. One work item per rotated pair, plus one per two
// pass-through values (dims n_dims..d-1) of each row (head h, token t, i3); items are
// grid-strided. Normal mode rotates (x[2i], x[2i+1]), NeoX mode (x[i], x[i + n_dims/2]).
//
// The angle of pair i is computed as the CPU backend does: theta = pos, multiplied i times by
// theta_scale = base^(-2/n_dims) (rounded to f32 on the host, as powf gives it), then divided by
// factors[i] and multiplied by freq_scale. The angle is reduced to [-pi, pi] with a three-part
// 2*pi before sin/cos, whose accuracy on GPUs falls off for large arguments (positions in the
// thousands).
//
// SET_ROWS (rope_set_rows): the rotated rows go straight into a KV cache instead of y, as the
// set_rows node after the rope would write them: token t's row (its heads side by side) to
// cache row ids[t], converted to the cache's type; an id outside the cache writes nothing, and
// when two tokens share an id the later one wins.

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) readonly buffer PosBuf { int pos[]; };
layout(std430, binding = 2) readonly buffer FactorBuf { float factors[]; };
#ifdef SET_ROWS
#include "float_tensor.glsl"
KILN_FLOAT_OUTPUT(3, dst)
layout(std430, binding = 4) readonly buffer IdBuf { int ids[]; };
#else
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#endif

layout(push_constant) uniform Params {
    uint x_off, x_nb1, x_nb2, x_nb3;  // bytes
    uint y_off, y_nb1, y_nb2, y_nb3;  // bytes
    uint pos_off, f_off;              // bytes
    uint ne0, ne1, ne2, ne3;
    uint n_dims;
    uint neox;
    uint has_factors;
    float freq_scale;
    float theta_scale;
#ifdef SET_ROWS
    uint ids_off;            // elements
    uint d_off, d_nb1, d_type;  // elements; KILN_F32 / KILN_F16 / KILN_BF16
    uint dst_rows;
#endif
} p;

// 2*pi = TWO_PI_A + TWO_PI_B + TWO_PI_C (Cody-Waite). A has 8 significant bits, so the first
// fma's result angle - k * A is exact; the later terms add the rest of 2*pi.
const float TWO_PI_A = 6.28125;
const float TWO_PI_B = 1.93530716933e-3;
const float TWO_PI_C = 1.0253376e-11;
const float INV_TWO_PI = 0.15915494;

void main() {
    const uint half_dims = p.n_dims / 2;
    const uint items_per_row = half_dims + (p.ne0 - p.n_dims + 1) / 2;
    const uint n_items = items_per_row * p.ne1 * p.ne2 * p.ne3;
    for (uint item = gl_GlobalInvocationID.x; item < n_items; item += KILN_GRID_STRIDE_X) {
        const uint i = item % items_per_row;
        const uint r = item / items_per_row;
        const uint h = r % p.ne1, t = (r / p.ne1) % p.ne2, i3 = r / (p.ne1 * p.ne2);
        const uint xb = (p.x_off + h * p.x_nb1 + t * p.x_nb2 + i3 * p.x_nb3) >> 2;
#ifdef SET_ROWS
        const int id = ids[p.ids_off + t];
        bool skip = id < 0 || uint(id) >= p.dst_rows;
        for (uint later = t + 1; later < p.ne2 && !skip; ++later) skip = ids[p.ids_off + later] == id;
        if (skip) continue;
        const uint yb = p.d_off + uint(id) * p.d_nb1 + h * p.ne0;
#define STORE(i, v) dst_store(p.d_type, yb + (i), (v))
#else
        const uint yb = (p.y_off + h * p.y_nb1 + t * p.y_nb2 + i3 * p.y_nb3) >> 2;
#define STORE(i, v) y[yb + (i)] = (v)
#endif
        if (i >= half_dims) {
            const uint c = p.n_dims + 2 * (i - half_dims);
            STORE(c, x[xb + c]);
            if (c + 1 < p.ne0) STORE(c + 1, x[xb + c + 1]);
            continue;
        }
        float theta = float(pos[(p.pos_off >> 2) + t]);
        for (uint k = 0; k < i; ++k) theta *= p.theta_scale;
        if (p.has_factors != 0) theta /= factors[(p.f_off >> 2) + i];
        const float angle = p.freq_scale * theta;
        const float turns = round(angle * INV_TWO_PI);
        precise float reduced = fma(-turns, TWO_PI_A, angle);
        reduced = fma(-turns, TWO_PI_B, reduced);
        reduced = fma(-turns, TWO_PI_C, reduced);
        const float c = cos(reduced), s = sin(reduced);
        const uint a = p.neox != 0 ? i : 2 * i;
        const uint b = p.neox != 0 ? i + half_dims : 2 * i + 1;
        const float x0 = x[xb + a], x1 = x[xb + b];
        STORE(a, x0 * c - x1 * s);
        STORE(b, x0 * s + x1 * c);
    }
}
