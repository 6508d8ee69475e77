#pragma once
// --grammar, --grammar-file, --json-schema, --json-schema-file: what generated text must follow
// (models/grammar). At most one of them; read and compiled before the model loads, so a bad
// grammar fails in milliseconds with its file, line and column.
#include <memory>
#include <string>
#include <vector>

#include "apps/args.h"

namespace kiln {

class Grammar;

std::vector<FlagSpec> grammar_flags();

// The compiled grammar the flags ask for; nullptr when none is given.
std::shared_ptr<const Grammar> grammar_from_flags(const Args& args, const std::string& command);

}  // namespace kiln
