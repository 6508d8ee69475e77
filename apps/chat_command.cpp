// `kiln chat -m MODEL`: multi-turn chat with the model's own chat template (ChatML when the
// model has none), streaming replies. The KV cache is reused between turns: only the tokens
// the template adds since the last turn are evaluated. Commands: /system [TEXT], /clear,
// /help, /quit. Ctrl-C stops a reply (apps/chat_interrupt.h); at a terminal lines are edited
// through libedit (apps/line_reader.h).
#include <unistd.h>

#include <ostream>

#include "apps/chat_interrupt.h"
#include "apps/commands.h"
#include "apps/format.h"
#include "apps/line_reader.h"
#include "apps/model_flags.h"
#include "apps/text_file.h"
#include "graph/error.h"
#include "models/session/conversation.h"
#include "models/session/generate.h"

namespace kiln {
namespace {

const char* const kHelp =
    "commands: /system [TEXT] (set, or with no TEXT remove, the system message and start over), /clear (start\n"
    "over), /help, /quit. Ctrl-C stops a reply (what it said so far stays in the conversation); Ctrl-C at\n"
    "the prompt, or end of input (Ctrl-D), quits.\n";

// Hides <think>...</think> from what is printed (the model still generates and sees it).
class ThinkFilter {
public:
    explicit ThinkFilter(bool hide) : hide_(hide) {}
    std::string operator()(std::string_view text) {
        if (!hide_) return std::string(text);
        buffer_ += text;
        std::string out;
        for (;;) {
            const std::string_view tag = inside_ ? "</think>" : "<think>";
            const size_t at = buffer_.find(tag);
            if (at == std::string::npos) {
                // Keep a possible partial tag; print the rest when outside.
                const size_t keep = std::min(buffer_.size(), tag.size() - 1);
                if (!inside_) out += buffer_.substr(0, buffer_.size() - keep);
                buffer_.erase(0, buffer_.size() - keep);
                return out;
            }
            if (!inside_) out += buffer_.substr(0, at);
            buffer_.erase(0, at + tag.size());
            inside_ = !inside_;
        }
    }

private:
    bool hide_;
    bool inside_ = false;
    std::string buffer_;
};

}  // namespace

int chat_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const auto flags = join_flags({model_flags(), sampling_flags(),
                                   {
                                       {"--n-predict", "-n", true, "most tokens per reply (default: until the turn ends)"},
                                       {"--system", "", true, "system message"},
                                       {"--chat-template", "", true, "Jinja chat template file (default: the model's)"},
                                       {"--think", "", true, "on, off (enable_thinking=false) or hide (think, print no <think>)"},
                                       {"--verbose", "", false, "print how many cached tokens each turn reuses"},
                                       {"--help", "-h", false, "show this help"},
                                   }});
    Args args("chat", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln chat -m MODEL.gguf [options]   (then type)\n" << kHelp << describe_flags(flags);
        return 0;
    }
    const int n_predict = static_cast<int>(args.get_int("--n-predict", 1, 1 << 20).value_or(-1));
    const std::string think = args.get("--think").value_or("on");
    if (think != "on" && think != "off" && think != "hide") throw Error("kiln chat: --think is on, off or hide");
    SamplerParams sp = sampler_params(args);
    LoadedModel lm = load_model(args, "chat", err);
    Sampler sampler(sp, lm.tokenizer->vocab().size());

    std::optional<ChatTemplate> tmpl;
    if (auto file = args.get("--chat-template")) {
        tmpl = ChatTemplate::parse(read_text_file(*file, "--chat-template"), *file);
    } else {
        tmpl = Conversation::model_template(lm.model->file());
    }
    if (!tmpl) {
        err << "(the model has no chat template: using ChatML)\n";
        tmpl = ChatTemplate::chatml();
    }
    Conversation chat(*lm.session, *lm.tokenizer, *tmpl, Conversation::default_options(*lm.tokenizer));
    if (think == "off") chat.set_thinking(false);
    if (auto system = args.get("--system")) chat.set_system(*system);
    const bool interactive = ::isatty(STDIN_FILENO) == 1;  // prompts only for a person at a terminal
    if (interactive) out << kHelp;
    ChatInterrupt interrupt;
    LineReader reader(interactive, "> ");

    for (;;) {
        const std::optional<std::string> got = reader.read(out);
        if (!got) break;
        const std::string& line = *got;
        if (line.empty()) continue;
        if (line[0] == '/') {
            const std::string command = line.substr(0, line.find(' '));
            if (command == "/quit") break;
            if (command == "/help") {
                out << kHelp;
            } else if (command == "/clear" || command == "/system") {
                if (command == "/system") chat.set_system(line.size() > 8 ? line.substr(8) : std::string());
                chat.clear();
                lm.session->clear();
                sampler.reset();
                out << "(conversation cleared)\n";
            } else {
                out << "unknown command '" << command << "', /help lists them\n";
            }
            continue;
        }
        int reused = 0;
        std::span<const int32_t> ids;
        try {
            ids = chat.add_user(line, &reused);
        } catch (const Error& e) {
            out << "(" << e.what() << ")\n";
            continue;
        }
        if (args.has("--verbose")) err << "(reusing " << reused << " cached tokens, evaluating " << ids.size() << ")\n";
        GenerateOptions go;
        go.n_predict = n_predict;
        ThinkFilter filter(think == "hide");
        std::string reply;
        GenerateStats stats;
        {
            ChatInterrupt::Reply ctrl_c;  // until the reply ends, Ctrl-C stops it rather than quitting
            go.cancel = &ctrl_c.cancel();
            stats = generate(*lm.session, *lm.tokenizer, sampler, ids, go, [&](std::string_view text) {
                reply += text;
                out << filter(text) << std::flush;
            });
        }
        out << "\n";
        // A stopped reply stays, as far as it got: the next turn's template closes it.
        chat.add_assistant(reply, stats.tokens);
        err << format_timings(stats) << "\n";
        if (stats.stop == StopReason::Cancelled) out << "(reply stopped)\n";
        if (stats.stop == StopReason::ContextFull) out << "(the context is full: /clear to start over)\n";
    }
    return 0;
}

}  // namespace kiln
