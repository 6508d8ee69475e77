# Rope family (backends/vulkan/ops/rope.cpp): the rope node, and rope writing its rows into a KV
# cache (the fused rope + set_rows, backends/vulkan/fusion.cpp).
kiln_add_shader(rope rope.comp)
kiln_add_shader(rope_set_rows rope.comp DEFINES SET_ROWS=1)
