#include <exception>
#include <new>
#include <ostream>

#include "apps/commands.h"
#include "graph/error.h"

namespace kiln {
namespace {

struct Command {
    const char* name;
    int (*run)(const std::vector<std::string>&, std::ostream&, std::ostream&);
    const char* help;
};

const Command kCommands[] = {
    {"run", run_command, "generate text from a prompt"},
    {"embed", embed_command, "embed texts: one vector each (pooled hidden states)"},
    {"chat", chat_command, "talk with a model, turn by turn"},
    {"serve", serve_command, "an OpenAI-compatible HTTP server with continuous batching and a chat page"},
    {"tokenize", tokenize_command, "show the token ids and pieces of a text"},
    {"info", info_command, "describe a GGUF model: architecture, tokenizer, metadata, tensors"},
    {"bench", bench_command, "measure prompt (pp) and generation (tg) speed, as llama-bench does"},
    {"compare", compare_command, "run a prompt on two backends and compare every node's output"},
    {"devices", devices_command, "list the CPU and Vulkan devices kiln can use"},
    {"synth", synth_command, "write a random-weight LLaMA model (tests, benchmarks)"},
    {"quantize", quantize_command, "write a model's weights in a quantization mix (Q4_K_M, Q8_0, ...)"},
};

void usage(std::ostream& out) {
    out << "usage: kiln COMMAND [options]   (kiln COMMAND --help or kiln help COMMAND for its options)\n\ncommands:\n";
    for (const Command& c : kCommands) {
        std::string name = c.name;
        name.resize(10, ' ');
        out << "  " << name << c.help << "\n";
    }
}

}  // namespace

int run_kiln(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    // `kiln help CMD` is `kiln CMD --help` (and, as there, takes nothing more).
    if (argv.size() >= 2 && argv[0] == "help") {
        if (argv.size() > 2) {
            err << "kiln: help takes one command, not '" << argv[2] << "'\n";
            return 1;
        }
        return run_kiln({argv[1], "--help"}, out, err);
    }
    if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
        usage(argv.empty() ? err : out);
        return argv.empty() ? 1 : 0;
    }
    if (argv[0] == "--version") {
        out << "kiln " << KILN_VERSION << "\n";
        return 0;
    }
    for (const Command& c : kCommands) {
        if (argv[0] != c.name) continue;
        try {
            return c.run({argv.begin() + 1, argv.end()}, out, err);
        } catch (const Error& e) {
            err << "kiln: " << e.what() << "\n";
        } catch (const std::bad_alloc&) {
            err << "kiln: out of memory\n";
        } catch (const std::exception& e) {
            err << "kiln: internal error: " << e.what() << "\n";
        }
        return 1;
    }
    err << "kiln: unknown command '" << argv[0] << "'\n";
    usage(err);
    return 1;
}

}  // namespace kiln
