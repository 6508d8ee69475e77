#include "models/chat/chat_template.h"

#include "graph/error.h"
#include "models/chat/builtins.h"
#include "models/chat/parser.h"

namespace kiln {

namespace {

// ChatML, the format most instruction-tuned models without a template of their own expect.
constexpr std::string_view kChatML =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message.role + '\\n' + (message.content if message.content is string else '') + "
    "'<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

// Jinja2 rejects unknown filters and tests when it compiles a template; so does kiln, so a bad
// template fails when loaded rather than on some later conversation.
void check_names(const jinja::Expr& e, const std::string& name) {
    using K = jinja::Expr::Kind;
    if (e.kind == K::Filter && !jinja::has_filter(e.name)) {
        throw Error(jinja::located(name, e.pos, "no filter named '" + e.name + "'"));
    }
    if (e.kind == K::Test && !jinja::has_test(e.name)) {
        throw Error(jinja::located(name, e.pos, "no test named '" + e.name + "'"));
    }
    for (const jinja::ExprPtr& a : e.args) {
        if (a) check_names(*a, name);
    }
}

void check_names(const jinja::Body& body, const std::string& name) {
    for (const jinja::StmtPtr& s : body) {
        for (const jinja::ExprPtr* e : {&s->expr, &s->cond}) {
            if (*e) check_names(**e, name);
        }
        for (const jinja::ExprPtr& v : s->values) check_names(*v, name);
        for (const jinja::MacroParam& p : s->params) {
            if (p.default_value) check_names(*p.default_value, name);
        }
        for (const auto& [cond, branch] : s->branches) {
            if (cond) check_names(*cond, name);
            check_names(branch, name);
        }
        check_names(s->body, name);
        check_names(s->else_body, name);
    }
}

}  // namespace

ChatTemplate ChatTemplate::parse(std::string_view source, std::string name) {
    auto body = std::make_shared<jinja::Body>(jinja::parse_template(source, name));
    check_names(*body, name);
    return ChatTemplate(std::move(name), std::string(source), std::move(body));
}

ChatTemplate ChatTemplate::chatml() { return parse(kChatML, "built-in ChatML template"); }

std::string ChatTemplate::render(const jinja::Dict& variables, const jinja::RenderLimits& limits,
                                 const std::optional<std::tm>& date, jinja::RenderStats* stats) const {
    jinja::Interpreter interpreter(name_, limits);
    interpreter.fixed_date = date;
    struct Report {
        const jinja::Interpreter& in;
        jinja::RenderStats* stats;
        ~Report() {
            if (stats) *stats = in.stats();
        }
    } report{interpreter, stats};
    return interpreter.render(*body_, variables);
}

jinja::Value message_value(const ChatMessage& m) {
    using jinja::Value;
    jinja::Dict d;
    d.set("role", Value(m.role));
    d.set("content", m.content ? Value(*m.content) : Value::none());
    if (m.reasoning_content) d.set("reasoning_content", Value(*m.reasoning_content));
    if (!m.tool_calls.empty()) {
        jinja::List calls;
        for (const ChatToolCall& c : m.tool_calls) {
            jinja::Dict function;
            function.set("name", Value(c.name));
            function.set("arguments", c.arguments);
            jinja::Dict call;
            if (!c.id.empty()) call.set("id", Value(c.id));
            call.set("type", Value("function"));
            call.set("function", Value(std::move(function)));
            calls.emplace_back(std::move(call));
        }
        d.set("tool_calls", Value(std::move(calls)));
    }
    if (m.tool_call_id) d.set("tool_call_id", Value(*m.tool_call_id));
    if (m.name) d.set("name", Value(*m.name));
    return Value(std::move(d));
}

std::string render_chat(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                        const ChatOptions& options) {
    using jinja::Value;
    jinja::List list;
    for (const ChatMessage& m : messages) list.push_back(message_value(m));
    jinja::Dict vars;
    vars.set("messages", Value(std::move(list)));
    vars.set("tools", options.tools);
    vars.set("documents", options.documents);
    vars.set("add_generation_prompt", Value(options.add_generation_prompt));
    if (options.bos_token) vars.set("bos_token", Value(*options.bos_token));
    if (options.eos_token) vars.set("eos_token", Value(*options.eos_token));
    if (options.enable_thinking) vars.set("enable_thinking", Value(*options.enable_thinking));
    for (const auto& [key, value] : options.extra) vars.set(key, value);
    return tmpl.render(vars, options.limits, options.date, options.stats);
}

}  // namespace kiln
