# MatMul and GetRows families (backends/vulkan/ops/matmul.cpp, mul_mat_id.cpp, get_rows.cpp): one
# variant per weight dtype, all reading weights through dequant.glsl. <t> is the dtype's
# lower-case name (q4_k, iq4_nl, bf16).

# kiln_add_matmul_family(PREFIX DEFINE TYPE...): matmul_<PREFIX>vec_<t> (few columns,
# shared-memory reduction), matmul_<PREFIX>vec_<t>_sg (the same with subgroupAdd) and
# matmul_<PREFIX>mm_<t> (tiled) for each TYPE, compiled with DEFINE (a macro: kiln_add_shader's
# lists must reach this scope).
macro(kiln_add_matmul_family prefix define)
  foreach(kiln_weight_type ${ARGN})
    string(TOLOWER ${kiln_weight_type} kiln_weight_name)
    kiln_add_shader(matmul_${prefix}vec_${kiln_weight_name} matmul_vec.comp DEFINES WEIGHT_${kiln_weight_type}=1 ${define})
    kiln_add_shader(matmul_${prefix}vec_${kiln_weight_name}_sg matmul_vec.comp
                    DEFINES WEIGHT_${kiln_weight_type}=1 ${define} USE_SUBGROUP=1)
    kiln_add_shader(matmul_${prefix}mm_${kiln_weight_name} matmul_mm.comp DEFINES WEIGHT_${kiln_weight_type}=1 ${define})
  endforeach()
endmacro()

set(kiln_all_weight_types F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)
set(kiln_quantized_weight_types Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)

kiln_add_matmul_family("" "" ${kiln_all_weight_types})
# Integer dots for the quantized dtypes (IDOT: x as 8-bit blocks from quantize_q8.comp).
kiln_add_matmul_family("idot_" IDOT=1 ${kiln_quantized_weight_types})
# Mixture of experts (MUL_MAT_ID: each column times the expert its id names): vec for decode (a
# column per workgroup), mm for prompts (tiles over an expert's columns, grouped by moe_group.comp).
kiln_add_matmul_family("id_" MUL_MAT_ID=1 ${kiln_all_weight_types})

foreach(kiln_weight_type ${kiln_all_weight_types})
  string(TOLOWER ${kiln_weight_type} kiln_weight_name)
  kiln_add_shader(matmul_lanes_${kiln_weight_name} matmul_lanes.comp DEFINES WEIGHT_${kiln_weight_type}=1)
  kiln_add_shader(get_rows_${kiln_weight_name} get_rows.comp DEFINES WEIGHT_${kiln_weight_type}=1)
endforeach()
