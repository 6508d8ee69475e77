// `kiln run -m MODEL -p PROMPT [-n N] ...`: generate text, streamed as it comes, then one line
// of timings on stderr (and, with --profile, the time of every node).
#include <cstdio>
#include <ostream>

#include "apps/commands.h"
#include "apps/format.h"
#include "apps/grammar_flags.h"
#include "apps/model_flags.h"
#include "apps/profile_flags.h"
#include "apps/text_file.h"
#include "graph/error.h"
#include "models/session/conversation.h"
#include "models/session/generate.h"

namespace kiln {
namespace {

std::vector<FlagSpec> run_flags() {
    return join_flags({model_flags(), sampling_flags(), grammar_flags(), profile_flags(),
                       {
                           {"--prompt", "-p", true, "prompt text"},
                           {"--file", "-f", true, "read the prompt from a file (not with -p)"},
                           {"--reverse-prompt", "-r", true, "stop once this text is generated (printed; repeatable)"},
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
    if (args.has("--prompt") && args.has("--file")) {
        throw Error("kiln run: -p/--prompt and -f/--file both give the prompt: use one");
    } else if (auto p = args.get("--prompt")) {
        prompt = *p;
    } else if (auto f = args.get("--file")) {
        prompt = read_text_file(*f, "-f");
    } else {
        throw Error("kiln run: no prompt (-p TEXT or -f FILE)");
    }
    const int n_predict = static_cast<int>(args.get_int("--n-predict", -1, 1 << 30).value_or(-1));
    const std::vector<std::string> stops = args.get_all("--reverse-prompt");
    for (const std::string& s : stops) {
        if (s.empty()) throw Error("kiln run: -r/--reverse-prompt needs non-empty text");
    }
    SamplerParams sp = sampler_params(args);
    const std::shared_ptr<const Grammar> grammar = grammar_from_flags(args, "run");
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
    go.stop = stops;
    go.grammar = grammar;
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
