// `kiln chat -m MODEL`: an interactive loop of plain-text turns. Each line the user types is
// appended to the conversation and the model continues it until it ends its turn (an end-of-
// generation token), a newline, or -n tokens. /clear forgets the conversation; /quit leaves.
#include <iostream>
#include <ostream>

#include "apps/commands.h"
#include "apps/format.h"
#include "apps/model_flags.h"
#include "graph/error.h"
#include "models/session/generate.h"

namespace kiln {

int chat_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const auto flags = join_flags({model_flags(), sampling_flags(),
                                   {
                                       {"--n-predict", "-n", true, "most tokens per reply (default 256)"},
                                       {"--help", "-h", false, "show this help"},
                                   }});
    Args args("chat", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln chat -m MODEL.gguf [options]   (then type; /clear, /quit)\n" << describe_flags(flags);
        return 0;
    }
    const int n_predict = static_cast<int>(args.get_int("--n-predict", 1, 1 << 20).value_or(256));
    SamplerParams sp = sampler_params(args);
    LoadedModel lm = load_model(args, "chat");
    Sampler sampler(sp, lm.tokenizer->vocab().size());
    const bool interactive = &out == &std::cout;

    std::string line;
    bool first_turn = true;
    for (;;) {
        if (interactive) out << "> " << std::flush;
        if (!std::getline(std::cin, line) || line == "/quit") break;
        if (line == "/clear") {
            lm.session->clear();
            sampler.reset();
            first_turn = true;
            out << "(conversation cleared)\n";
            continue;
        }
        if (line.empty()) continue;
        std::vector<int32_t> ids = lm.tokenizer->encode(line + "\n", first_turn, false);
        if (lm.session->n_past() + static_cast<int64_t>(ids.size()) >= lm.session->n_ctx()) {
            out << "(the context is full: /clear to start over)\n";
            continue;
        }
        first_turn = false;
        GenerateOptions go;
        go.n_predict = n_predict;
        go.stop = {"\n"};
        std::string reply;
        GenerateStats stats = generate(*lm.session, *lm.tokenizer, sampler, ids, go, [&](std::string_view text) {
            out << text << std::flush;
            reply += text;
        });
        if (reply.empty() || reply.back() != '\n') out << "\n";
        if (stats.stop == StopReason::ContextFull) out << "(the context is full: /clear to start over)\n";
        err << format_timings(stats) << "\n";
    }
    return 0;
}

}  // namespace kiln
