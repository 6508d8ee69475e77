# MatMul and GetRows families (backends/vulkan/ops/matmul.cpp, get_rows.cpp): one variant per
# weight dtype, all reading weights through dequant.glsl. Names: matmul_vec_<t> (few columns,
# shared-memory reduction), matmul_vec_<t>_sg (the same with subgroupAdd), matmul_mm_<t>
# (tiled), get_rows_<t>; <t> is the dtype's lower-case name (q4_k, iq4_nl, bf16).
foreach(kiln_weight_type F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)
  string(TOLOWER ${kiln_weight_type} kiln_weight_name)
  kiln_add_shader(matmul_vec_${kiln_weight_name} matmul_vec.comp DEFINES WEIGHT_${kiln_weight_type}=1)
  kiln_add_shader(matmul_vec_${kiln_weight_name}_sg matmul_vec.comp
                  DEFINES WEIGHT_${kiln_weight_type}=1 USE_SUBGROUP=1)
  kiln_add_shader(matmul_mm_${kiln_weight_name} matmul_mm.comp DEFINES WEIGHT_${kiln_weight_type}=1)
  kiln_add_shader(get_rows_${kiln_weight_name} get_rows.comp DEFINES WEIGHT_${kiln_weight_type}=1)
endforeach()
foreach(kiln_weight_type F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)
  string(TOLOWER ${kiln_weight_type} kiln_weight_name)
  kiln_add_shader(matmul_lanes_${kiln_weight_name} matmul_lanes.comp DEFINES WEIGHT_${kiln_weight_type}=1)
endforeach()
# Integer-dot matmuls for the quantized dtypes (IDOT: x as 8-bit blocks from quantize_q8.comp):
# matmul_idot_vec_<t>[_sg] and matmul_idot_mm_<t>.
foreach(kiln_weight_type Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)
  string(TOLOWER ${kiln_weight_type} kiln_weight_name)
  kiln_add_shader(matmul_idot_vec_${kiln_weight_name} matmul_vec.comp DEFINES WEIGHT_${kiln_weight_type}=1 IDOT=1)
  kiln_add_shader(matmul_idot_vec_${kiln_weight_name}_sg matmul_vec.comp
                  DEFINES WEIGHT_${kiln_weight_type}=1 IDOT=1 USE_SUBGROUP=1)
  kiln_add_shader(matmul_idot_mm_${kiln_weight_name} matmul_mm.comp DEFINES WEIGHT_${kiln_weight_type}=1 IDOT=1)
endforeach()
# Mixture-of-experts matmuls (MUL_MAT_ID: each column times the expert its id names):
# matmul_id_vec_<t>[_sg] (one column per workgroup: decode) and matmul_id_mm_<t> (tiles over an
# expert's columns, grouped by moe_group.comp: prompts) for every weight dtype.
foreach(kiln_weight_type F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL)
  string(TOLOWER ${kiln_weight_type} kiln_weight_name)
  kiln_add_shader(matmul_id_vec_${kiln_weight_name} matmul_vec.comp DEFINES WEIGHT_${kiln_weight_type}=1 MUL_MAT_ID=1)
  kiln_add_shader(matmul_id_vec_${kiln_weight_name}_sg matmul_vec.comp
                  DEFINES WEIGHT_${kiln_weight_type}=1 MUL_MAT_ID=1 USE_SUBGROUP=1)
  kiln_add_shader(matmul_id_mm_${kiln_weight_name} matmul_mm.comp DEFINES WEIGHT_${kiln_weight_type}=1 MUL_MAT_ID=1)
endforeach()
