// Tensors of f32, f16 or bf16 elements as shader bindings. Each binding is declared twice, as
// 32-bit floats and as 16-bit words (aliases of one descriptor), so a single shader reads and
// writes all three types: the element type is a push constant (KILN_F32 / KILN_F16 / KILN_BF16,
// matching kiln::vk::float_code) instead of one compiled variant per type combination.
// Indices are in elements of the tensor's own type. Needs storageBuffer16BitAccess.
#ifndef KILN_FLOAT_TENSOR_GLSL
#define KILN_FLOAT_TENSOR_GLSL

#extension GL_EXT_shader_16bit_storage : require

#include "convert16.glsl"

#define KILN_F32 0u
#define KILN_F16 1u
#define KILN_BF16 2u

// Declares binding `b` as a read-only tensor `name` and `float name_load(uint type, uint i)`.
#define KILN_FLOAT_INPUT(b, name)                                                              \
    layout(std430, binding = b) readonly buffer name##_f32_block { float name##_f32[]; };      \
    layout(std430, binding = b) readonly buffer name##_u16_block { uint16_t name##_u16[]; };   \
    float name##_load(uint type, uint i) {                                                     \
        if (type == KILN_F32) return name##_f32[i];                                            \
        const uint h = uint(name##_u16[i]);                                                    \
        return type == KILN_F16 ? kiln_f16_to_f32(h) : kiln_bf16_to_f32(h);                    \
    }

// Declares binding `b` as a write-only tensor `name` and `name_store(uint type, uint i, float v)`.
#define KILN_FLOAT_OUTPUT(b, name)                                                             \
    layout(std430, binding = b) writeonly buffer name##_f32_block { float name##_f32[]; };     \
    layout(std430, binding = b) writeonly buffer name##_u16_block { uint16_t name##_u16[]; };  \
    void name##_store(uint type, uint i, float v) {                                            \
        if (type == KILN_F32) {                                                                \
            name##_f32[i] = v;                                                                 \
        } else {                                                                               \
            name##_u16[i] = uint16_t(type == KILN_F16 ? kiln_f32_to_f16(v) : kiln_f32_to_bf16(v)); \
        }                                                                                      \
    }

#endif
