#pragma once
// Runs a parsed template: statements write to an output string, expressions evaluate to
// values. Scoping follows Jinja2: a for-loop iteration, a macro call and a `with` block get their
// own frame (so `set` inside them stays there); `if` does not. Every step, item and byte, the
// stack, the calls and the output are counted against RenderLimits (budget.h), so no template
// can hang kiln, exhaust its memory or overflow its stack.
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "models/chat/ast.h"
#include "models/chat/budget.h"
#include "models/chat/value.h"

namespace kiln::jinja {

struct Frame {
    std::shared_ptr<Frame> parent;
    Dict vars;
};
using FramePtr = std::shared_ptr<Frame>;

class Interpreter {
public:
    Interpreter(const std::string& template_name, const RenderLimits& limits);

    // Renders `body` with `variables` as the template's top-level names (builtins beneath).
    std::string render(const Body& body, const Dict& variables);
    // What the last render used of its limits, whether it finished or failed.
    const RenderStats& stats() const { return stats_; }

    // For builtins: calls a template callable (macro or builtin) with the depth limit.
    Value call(const Value& callee, CallArgs& args);

    // The date strftime_now() formats; the current local time when unset.
    std::optional<std::tm> fixed_date;

private:
    enum class Flow { Normal, Break, Continue };

    Flow exec_body(const Body& body, const FramePtr& frame, std::string& out);
    Flow exec(const Stmt& s, const FramePtr& frame, std::string& out);
    void exec_for(const Stmt& s, const FramePtr& frame, std::string& out);
    void exec_set(const Stmt& s, const FramePtr& frame);
    Value eval(const Expr& e, const FramePtr& frame);
    Value eval_inner(const Expr& e, const FramePtr& frame);
    Value eval_call(const Expr& e, const FramePtr& frame);
    Value eval_filter(const Expr& e, const FramePtr& frame, const Value* block_input);
    CallArgs eval_args(const Expr& e, const FramePtr& frame);
    Value make_macro(const Stmt& s, const FramePtr& frame);
    Value call_macro(const Stmt& s, const std::weak_ptr<Frame>& closure, CallArgs& args);

    void step();
    void append(std::string& out, std::string_view text);
    [[noreturn]] void rethrow_at(SourcePos pos);

    const std::string& name_;
    RenderLimits limits_;
    Budget* budget_ = nullptr;  // render()'s, while it runs
    RenderStats stats_;
    int call_depth_ = 0;
};

}  // namespace kiln::jinja
