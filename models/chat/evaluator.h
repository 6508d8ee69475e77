#pragma once
// Runs a parsed template: statements write to an output string, expressions evaluate to
// values. Scoping follows Jinja2: a for-loop iteration, a macro call and a `with` block get their
// own frame (so `set` inside them stays there); `if` does not. Every step, every call and the
// output are counted against RenderLimits, so no template can hang kiln or exhaust memory.
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "models/chat/ast.h"
#include "models/chat/value.h"

namespace kiln::jinja {

struct RenderLimits {
    size_t max_output_bytes = size_t{16} << 20;
    uint64_t max_steps = 5'000'000;  // expressions and statements evaluated, plus bulk work
    int max_call_depth = 64;          // nested macro calls (recursion)
};

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

    // For builtins: calls a template callable (macro or builtin) with the depth limit.
    Value call(const Value& callee, CallArgs& args);
    // Counts `work` units of bulk work (bytes copied, items visited) against the step limit.
    void charge(size_t work);

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
    uint64_t steps_ = 0;
    int call_depth_ = 0;
};

}  // namespace kiln::jinja
