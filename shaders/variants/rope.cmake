# Rope family (backends/vulkan/ops/rope.cpp): the rope node, and rope writing its rows into a KV
# cache (the fused rope + set_rows, backends/vulkan/fusion.cpp).
kiln_add_shader(rope rope.comp)
kiln_add_shader(rope_set_rows rope.comp DEFINES SET_ROWS=1)
# q and k rotated, k and v written into their KV caches: a decoder block's attention inputs.
kiln_add_shader(rope_qkv rope.comp DEFINES QKV=1)
