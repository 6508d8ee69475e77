#include "graph/reference/reference.h"

#include <cstring>

#include "graph/op_traits.h"
#include "graph/quant/half.h"

namespace kiln {

float reference::load(DType type, const uint8_t* row, int64_t i0) {
    switch (type) {
        case DType::F16: {
            uint16_t h;
            std::memcpy(&h, row + 2 * i0, 2);
            return f16_to_f32(h);
        }
        case DType::BF16: {
            uint16_t b;
            std::memcpy(&b, row + 2 * i0, 2);
            return bf16_to_f32(b);
        }
        default: {
            float f;
            std::memcpy(&f, row + 4 * i0, 4);
            return f;
        }
    }
}

void reference_execute(const Graph& g, const Node& n, std::span<uint8_t* const> data) {
    switch (op_traits(n.op).family) {
        case OpFamily::Unary: case OpFamily::Binary: return reference::elementwise(g, n, data);
        case OpFamily::RowNorm: case OpFamily::Softmax: return reference::norms(g, n, data);
        case OpFamily::MatMul: return n.op == Op::MulMatId ? reference::mul_mat_id(g, n, data) : reference::matmul(g, n, data);
        case OpFamily::Rope: return reference::rope(g, n, data);
        case OpFamily::Attention: return reference::flash_attn(g, n, data);
        case OpFamily::Gather: case OpFamily::Write: case OpFamily::Concat: case OpFamily::Reduce:
            return reference::data_movement(g, n, data);
    }
}

}  // namespace kiln
