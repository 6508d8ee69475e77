// `kiln run -m MODEL -p PROMPT [-n N] ...`: generate text, streamed as it comes, then one line
// of timings on stderr (and, with --profile, the time of every node).
#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>

#include "apps/commands.h"
#include "apps/format.h"
#include "apps/model_flags.h"
#include "apps/profile_flags.h"
#include "graph/error.h"
#include "models/session/conversation.h"
#include "models/session/generate.h"

namespace kiln {
namespace {

std::vector<FlagSpec> run_flags() {
    return join_flags({model_flags(), sampling_flags(), profile_flags(),
                       {
                           {"--prompt", "-p", true, "prompt text"},
                           {"--file", "-f", true, "read the prompt from a file"},
                           {"--n-predict", "-n", true, "tokens to generate (default -1: until end of text or a full context)"},
                           {"--ignore-eos", "", false, "keep generating past end-of-text tokens"},
                           {"--no-bos", "", false, "do not add the BOS token even where the model asks for it"},
                           {"--special", "", false, "parse special-token text in the prompt and print special tokens"},
                           {"--chat", "", false, "wrap the prompt in the model's chat template (a user turn)"},
                           {"--system", "", true, "system message, with --chat"},
                           {"--help", "-h", false, "show this help"},
                       }});
}

}  // namespace

int run_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const auto flags = run_flags();
    Args args("run", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln run -m MODEL.gguf -p PROMPT [options]\n" << describe_flags(flags);
        return 0;
    }
    if (!args.positionals().empty()) throw Error("kiln run: unexpected argument '" + args.positionals()[0] + "'");
    std::string prompt;
    if (auto p = args.get("--prompt")) {
        prompt = *p;
    } else if (auto f = args.get("--file")) {
        std::ifstream in(*f, std::ios::binary);
        if (!in) throw Error(*f + ": cannot read the prompt file");
        std::ostringstream ss;
        ss << in.rdbuf();
        prompt = ss.str();
    } else {
        throw Error("kiln run: no prompt (-p TEXT or -f FILE)");
    }
    const int n_predict = static_cast<int>(args.get_int("--n-predict", -1, 1 << 30).value_or(-1));
    SamplerParams sp = sampler_params(args);
    ProfileRun profile(args);
    LoadedModel lm = load_model(args, "run", err);
    profile.attach(*lm.session);
    const bool special = args.has("--special");
    Sampler sampler(sp, lm.tokenizer->vocab().size());
    std::vector<int32_t> ids;
    if (args.has("--chat")) {
        std::optional<ChatTemplate> tmpl = Conversation::model_template(lm.model->file());
        if (!tmpl) {
            err << "(the model has no chat template: using ChatML)\n";
            tmpl = ChatTemplate::chatml();
        }
        Conversation chat(*lm.session, *lm.tokenizer, *tmpl, Conversation::default_options(*lm.tokenizer));
        if (auto system = args.get("--system")) chat.set_system(*system);
        auto turn = chat.add_user(prompt);
        ids.assign(turn.begin(), turn.end());
    } else {
        ids = lm.tokenizer->encode(prompt, !args.has("--no-bos"), special);
        out << prompt;
        out.flush();
    }
    GenerateOptions go;
    go.n_predict = n_predict;
    go.render_special = special;
    go.ignore_eos = args.has("--ignore-eos");
    GenerateStats stats = generate(*lm.session, *lm.tokenizer, sampler, ids, go, [&](std::string_view text) {
        out << text;
        out.flush();
    });
    out << "\n";
    err << format_timings(stats) << "\n";
    profile.finish(err);
    return 0;
}

}  // namespace kiln
