// `kiln tokenize -m MODEL -p TEXT [--ids] [--no-bos] [--special]`: token ids and their pieces.
#include <ostream>

#include "apps/commands.h"
#include "apps/model_flags.h"
#include "graph/error.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

int tokenize_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream&) {
    const std::vector<FlagSpec> flags = {
        {"--model", "-m", true, "GGUF model (or vocabulary-only) file"},
        {"--prompt", "-p", true, "text to tokenize"},
        {"--ids", "", false, "print only the ids, as a list"},
        {"--no-bos", "", false, "do not add BOS/EOS even where the vocabulary asks for them"},
        {"--special", "", false, "parse special-token text such as <s>"},
        {"--help", "-h", false, "show this help"},
    };
    Args args("tokenize", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln tokenize -m MODEL.gguf -p TEXT [options]\n" << describe_flags(flags);
        return 0;
    }
    auto path = args.get("--model");
    auto text = args.get("--prompt");
    if (!path || !text) throw Error("kiln tokenize: needs -m MODEL.gguf and -p TEXT");
    // Only the vocabulary is needed: no weights are checked or mapped into a graph.
    GgufFile file = GgufFile::open(*path);
    Tokenizer tok = Tokenizer::from_gguf(file);
    std::vector<int32_t> ids = tok.encode(*text, !args.has("--no-bos"), args.has("--special"));
    if (args.has("--ids")) {
        out << "[";
        for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << ids[i];
        out << "]\n";
        return 0;
    }
    for (int32_t id : ids) {
        std::string piece = tok.token_to_piece(id, true);
        out << id << " '" << piece << "'\n";
    }
    out << ids.size() << " tokens\n";
    return 0;
}

}  // namespace kiln
