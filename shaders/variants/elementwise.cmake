# Elementwise family (backends/vulkan/ops/elementwise.cpp): one source per arity, the op a define.
kiln_add_shader(binary_add binary.comp DEFINES OP_ADD=1)
kiln_add_shader(binary_mul binary.comp DEFINES OP_MUL=1)
kiln_add_shader(binary_swiglu binary.comp DEFINES OP_SWIGLU=1)
kiln_add_shader(unary_scale unary.comp DEFINES OP_SCALE=1)
kiln_add_shader(unary_silu unary.comp DEFINES OP_SILU=1)
kiln_add_shader(unary_gelu unary.comp DEFINES OP_GELU=1)
kiln_add_shader(unary_sigmoid unary.comp DEFINES OP_SIGMOID=1)
