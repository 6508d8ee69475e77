#include "apps/grammar_flags.h"

#include "apps/text_file.h"
#include "graph/error.h"
#include "models/grammar/grammar.h"
#include "models/grammar/json_schema.h"

namespace kiln {

std::vector<FlagSpec> grammar_flags() {
    return {
        {"--grammar", "", true, "GBNF grammar the output must follow (llama.cpp's notation)"},
        {"--grammar-file", "", true, "read the GBNF grammar from a file"},
        {"--json-schema", "-j", true, "JSON Schema the output must validate against (e.g. '{}' for any JSON)"},
        {"--json-schema-file", "-jf", true, "read the JSON Schema from a file"},
    };
}

std::shared_ptr<const Grammar> grammar_from_flags(const Args& args, const std::string& command) {
    const char* names[] = {"--grammar", "--grammar-file", "--json-schema", "--json-schema-file"};
    const char* given = nullptr;
    for (const char* n : names) {
        if (!args.has(n)) continue;
        if (given) throw Error("kiln " + command + ": " + given + " and " + n + " both constrain the output: use one");
        given = n;
    }
    if (!given) return nullptr;
    const std::string flag = given;
    const std::string value = *args.get(flag);
    if (flag == "--grammar") return std::make_shared<const Grammar>(Grammar::parse(value, "--grammar"));
    if (flag == "--grammar-file") return std::make_shared<const Grammar>(Grammar::parse(read_text_file(value, flag), value));
    const bool from_file = flag == "--json-schema-file";
    const std::string schema = from_file ? read_text_file(value, flag) : value;
    const std::string source = from_file ? value : flag;
    return std::make_shared<const Grammar>(Grammar::parse(json_schema_to_gbnf(schema, source), source + " (as a grammar)"));
}

}  // namespace kiln
