#pragma once
// One graph builder per architecture (models/arch/<arch>.cpp), registered in architectures.cpp.
#include "models/arch/architectures.h"

namespace kiln {

class Model;

ModelGraph build_llama(const Model& m, const GraphShape& shape);
ModelGraph build_qwen2(const Model& m, const GraphShape& shape);
ModelGraph build_qwen2moe(const Model& m, const GraphShape& shape);
ModelGraph build_qwen3(const Model& m, const GraphShape& shape);
ModelGraph build_smollm3(const Model& m, const GraphShape& shape);

}  // namespace kiln
