#include "backends/vulkan/ops/ops.h"

#include <array>

#include "graph/op_traits.h"

namespace kiln::vk {

const VulkanOp& vulkan_op(Op op) {
    static const std::array<VulkanOp, kOpCount> table = [] {
        std::array<VulkanOp, kOpCount> t{};
        const auto set = [&t](Op o, VulkanOp v) { t[static_cast<size_t>(o)] = v; };
        const VulkanOp elementwise{supports_elementwise, record_elementwise};
        for (Op o : all_ops()) {
            const OpFamily f = op_traits(o).family;
            if (f == OpFamily::Unary || f == OpFamily::Binary) set(o, elementwise);
        }
        const VulkanOp norm{supports_norm, record_norm};
        for (Op o : {Op::RmsNorm, Op::Norm}) set(o, norm);
        const VulkanOp rows{supports_rows, record_rows};
        for (Op o : {Op::Copy, Op::SetRows, Op::Concat}) set(o, rows);
        set(Op::GetRows, {supports_get_rows, record_get_rows});
        set(Op::Argmax, {supports_argmax, record_argmax});
        set(Op::TopK, {supports_top_k, record_top_k});
        set(Op::MulMatId, {supports_mul_mat_id, record_mul_mat_id});
        set(Op::MatMul, {supports_matmul, record_matmul});
        set(Op::Rope, {supports_rope, record_rope});
        set(Op::Softmax, {supports_softmax, record_softmax});
        set(Op::FlashAttn, {supports_flash_attn, record_flash_attn});
        return t;
    }();
    return table[static_cast<size_t>(op)];
}

}  // namespace kiln::vk
