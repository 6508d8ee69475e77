// Shared by every kiln compute shader; include it right after #version.
#ifndef KILN_COMMON_GLSL
#define KILN_COMMON_GLSL

// The host picks the workgroup size per device, so it is specialization constant 0
// (kiln::vk::PipelineDesc::spec_constants[0]) rather than a number baked into the SPIR-V.
// Kernels that need y or z give them their own constant ids.
layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

// Total invocations along x: the stride of a grid-stride loop. The host may launch fewer
// groups than there are elements (the group count is capped by the device), so kernels loop.
#define KILN_GRID_STRIDE_X (gl_NumWorkGroups.x * gl_WorkGroupSize.x)

#endif
