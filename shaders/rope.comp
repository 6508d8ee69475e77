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

//
// QKV (rope_qkv): one decoder block's attention inputs in one dispatch: q rotated into y, k
// rotated into its KV cache (as SET_ROWS), and v's rows copied into theirs (the set_rows node
// of v: same id rules, converted to the cache's type). Work items: q's, then k's, then one per
// element of v.

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) readonly buffer PosBuf { int pos[]; };
layout(std430, binding = 2) readonly buffer FactorBuf { float factors[]; };
#if defined(SET_ROWS) || defined(QKV)
#include "float_tensor.glsl"
#endif
#if defined(SET_ROWS)
KILN_FLOAT_OUTPUT(3, dst)
layout(std430, binding = 4) readonly buffer IdBuf { int ids[]; };
#else
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#endif
#if defined(QKV)
layout(std430, binding = 4) readonly buffer KBuf { float kx[]; };
KILN_FLOAT_OUTPUT(5, kc)
layout(std430, binding = 6) readonly buffer IdBuf { int ids[]; };
layout(std430, binding = 7) readonly buffer VBuf { float vx[]; };
KILN_FLOAT_OUTPUT(8, vc)

layout(push_constant) uniform Params {
    uint pos_off, f_off;  // bytes
    uint ne0, ne2;        // head size, tokens
    uint n_dims;
    uint neox;
    uint has_factors;
    float freq_scale;
    float theta_scale;
    uint ids_off;                          // elements
    uint q_off, q_nb1, q_nb2, q_heads;     // bytes; q's heads
    uint y_off;                            // bytes; y packed [ne0, q_heads, ne2]
    uint k_off, k_nb1, k_nb2, k_heads;     // bytes
    uint kc_off, kc_nb1, kc_type, kc_rows; // elements; the K cache
    uint v_off, v_nb1, v_len;              // bytes, bytes, elements per token
    uint vc_off, vc_nb1, vc_type, vc_rows; // elements; the V cache
} p;
#else
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
#endif

// 2*pi = TWO_PI_A + TWO_PI_B + TWO_PI_C (Cody-Waite). A has 8 significant bits, so the first
// fma's result angle - k * A is exact; the later terms add the rest of 2*pi.
const float TWO_PI_A = 6.28125;
const float TWO_PI_B = 1.93530716933e-3;
const float TWO_PI_C = 1.0253376e-11;
const float INV_TWO_PI = 0.15915494;

// cos and sin of pair i's angle at token t's position.
vec2 rotation(uint i, uint t) {
    float theta = float(pos[(p.pos_off >> 2) + t]);
    for (uint k = 0; k < i; ++k) theta *= p.theta_scale;
    if (p.has_factors != 0) theta /= factors[(p.f_off >> 2) + i];
    const float angle = p.freq_scale * theta;
    const float turns = round(angle * INV_TWO_PI);
    precise float reduced = fma(-turns, TWO_PI_A, angle);
    reduced = fma(-turns, TWO_PI_B, reduced);
    reduced = fma(-turns, TWO_PI_C, reduced);
    return vec2(cos(reduced), sin(reduced));
}

// Where the pair (or the two pass-through values) of item i of a row goes: a, b.
uvec2 pair_of(uint i) {
    const uint half_dims = p.n_dims / 2;
    if (i >= half_dims) {
        const uint c = p.n_dims + 2 * (i - half_dims);
        return uvec2(c, c + 1);
    }
    return p.neox != 0 ? uvec2(i, i + half_dims) : uvec2(2 * i, 2 * i + 1);
}

#if defined(SET_ROWS) || defined(QKV)
// Whether token t's row must not be written to a cache of `rows` rows: its id is outside the
// cache, or a later token has the same id (the later one wins).
bool skip_row(uint t, uint tokens, uint rows) {
    const int id = ids[p.ids_off + t];
    bool skip = id < 0 || uint(id) >= rows;
    for (uint later = t + 1; later < tokens && !skip; ++later) skip = ids[p.ids_off + later] == id;
    return skip;
}
#endif

#if defined(QKV)
void main() {
    const uint half_dims = p.n_dims / 2;
    const uint items_per_row = half_dims + (p.ne0 - p.n_dims + 1) / 2;
    const uint nq = items_per_row * p.q_heads * p.ne2;
    const uint nk = items_per_row * p.k_heads * p.ne2;
    const uint n_items = nq + nk + p.v_len * p.ne2;
    for (uint item = gl_GlobalInvocationID.x; item < n_items; item += KILN_GRID_STRIDE_X) {
        if (item >= nq + nk) {  // v: one element
            const uint e = item - nq - nk;
            const uint t = e / p.v_len, j = e % p.v_len;
            if (skip_row(t, p.ne2, p.vc_rows)) continue;
            const float v = vx[((p.v_off + t * p.v_nb1) >> 2) + j];
            vc_store(p.vc_type, p.vc_off + uint(ids[p.ids_off + t]) * p.vc_nb1 + j, v);
            continue;
        }
        const bool is_q = item < nq;
        const uint heads = is_q ? p.q_heads : p.k_heads;
        const uint r_item = is_q ? item : item - nq;
        const uint i = r_item % items_per_row;
        const uint r = r_item / items_per_row;
        const uint h = r % heads, t = r / heads;
        const uvec2 ab = pair_of(i);
        float x0, x1 = 0.0;
        if (is_q) {
            const uint xb = (p.q_off + h * p.q_nb1 + t * p.q_nb2) >> 2;
            x0 = x[xb + ab.x];
            if (ab.y < p.ne0) x1 = x[xb + ab.y];
        } else {
            if (skip_row(t, p.ne2, p.kc_rows)) continue;
            const uint xb = (p.k_off + h * p.k_nb1 + t * p.k_nb2) >> 2;
            x0 = kx[xb + ab.x];
            if (ab.y < p.ne0) x1 = kx[xb + ab.y];
        }
        vec2 out_v = vec2(x0, x1);
        if (i < half_dims) {
            const vec2 cs = rotation(i, t);
            out_v = vec2(x0 * cs.x - x1 * cs.y, x0 * cs.y + x1 * cs.x);
        }
        if (is_q) {
            const uint yb = (p.y_off >> 2) + (t * p.q_heads + h) * p.ne0;
            y[yb + ab.x] = out_v.x;
            if (ab.y < p.ne0) y[yb + ab.y] = out_v.y;
        } else {
            const uint cb = p.kc_off + uint(ids[p.ids_off + t]) * p.kc_nb1 + h * p.ne0;
            kc_store(p.kc_type, cb + ab.x, out_v.x);
            if (ab.y < p.ne0) kc_store(p.kc_type, cb + ab.y, out_v.y);
        }
    }
}
#else
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
        if (skip_row(t, p.ne2, p.dst_rows)) continue;
        const uint yb = p.d_off + uint(ids[p.ids_off + t]) * p.d_nb1 + h * p.ne0;
#define STORE(i, v) dst_store(p.d_type, yb + (i), (v))
#else
        const uint yb = (p.y_off + h * p.y_nb1 + t * p.y_nb2 + i3 * p.y_nb3) >> 2;
#define STORE(i, v) y[yb + (i)] = (v)
#endif
        const uvec2 ab = pair_of(i);
        if (i >= half_dims) {
            STORE(ab.x, x[xb + ab.x]);
            if (ab.y < p.ne0) STORE(ab.y, x[xb + ab.y]);
            continue;
        }
        const vec2 cs = rotation(i, t);
        const float x0 = x[xb + ab.x], x1 = x[xb + ab.y];
        STORE(ab.x, x0 * cs.x - x1 * cs.y);
        STORE(ab.y, x0 * cs.y + x1 * cs.x);
    }
}
#endif
