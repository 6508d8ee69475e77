#pragma once
// One graph builder per architecture (models/arch/<arch>.cpp), registered in architectures.cpp.
#include "models/arch/architectures.h"

namespace kiln {

class Model;

ModelGraph build_llama(const Model& m, const GraphShape& shape);

}  // namespace kiln
