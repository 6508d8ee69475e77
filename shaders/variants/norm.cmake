# Norm family (backends/vulkan/ops/norm.cpp).
kiln_add_shader(norm_rms norm.comp DEFINES RMS_NORM=1)
kiln_add_shader(norm_mean norm.comp DEFINES MEAN_NORM=1)
kiln_add_shader(norm_rms_mul norm.comp DEFINES RMS_NORM=1 MUL_WEIGHT=1)
