#include "models/chat/evaluator.h"

#include <pthread.h>

#include <algorithm>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/chat/builtins.h"
#include "models/chat/operators.h"

namespace kiln::jinja {

// ---- budget (budget.h; here because models/CMakeLists.txt lists the sources) ------------------

namespace {

thread_local Budget* current_budget = nullptr;

// Stack the thread has left below `here`, or SIZE_MAX when the system does not say.
size_t stack_left(uintptr_t here) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return SIZE_MAX;
    void* low = nullptr;
    size_t size = 0;
    int rc = pthread_attr_getstack(&attr, &low, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) return SIZE_MAX;
    auto bottom = reinterpret_cast<uintptr_t>(low);
    return here > bottom ? here - bottom : 0;
}

// Kept free below the evaluator's limit for what runs past its last check: value printing and
// comparison (at most 128 levels of small frames), exception unwinding, the C library.
constexpr size_t kStackReserve = size_t{256} << 10;

}  // namespace

Budget::Budget(const RenderLimits& limits)
    : limits_(limits), stack_base_(reinterpret_cast<uintptr_t>(__builtin_frame_address(0))), previous_(current_budget) {
    size_t left = stack_left(stack_base_);
    stack_limit_ = std::min(limits_.max_stack_bytes, left > kStackReserve ? left - kStackReserve : 0);
    current_budget = this;
}

Budget::~Budget() { current_budget = previous_; }

Budget* Budget::current() { return current_budget; }

void Budget::check_stack() {
    auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    size_t used = stack_base_ > here ? stack_base_ - here : 0;
    peak_stack_ = std::max(peak_stack_, used);
    if (used > stack_limit_) {
        throw EvalError("template nested too deeply: over its stack limit of " + std::to_string(stack_limit_) +
                        " bytes");
    }
}

void Budget::fail_work() const {
    throw EvalError("template exceeded its work limit (" + std::to_string(limits_.max_work) +
                    " units of steps, items and bytes): endless loop or too much work");
}

void charge_work(uint64_t units) {
    if (Budget* b = Budget::current()) b->charge(units);
}
void charge_bytes(size_t bytes) { charge_work(bytes / kBytesPerWorkUnit); }
void charge_items(size_t items) { charge_work(items * kWorkUnitsPerItem); }
void check_stack() {
    if (Budget* b = Budget::current()) b->check_stack();
}

void check_string_size(size_t bytes) {
    if (bytes > kMaxStringBytes) {
        throw EvalError("string too large: over the limit of " + std::to_string(kMaxStringBytes) + " bytes");
    }
}
void check_list_size(size_t items) {
    if (items > kMaxListItems) {
        throw EvalError("list too large: over the limit of " + std::to_string(kMaxListItems) + " items");
    }
}
void reserve_string(size_t size, size_t added) {
    check_string_size(size);
    charge_bytes(added);
}
void reserve_list(size_t items, size_t added) {
    check_list_size(items);
    charge_items(added);
}

namespace {

const Value* lookup(const FramePtr& frame, const std::string& name) {
    size_t walked = 0;
    for (Frame* f = frame.get(); f; f = f->parent.get(), ++walked) {
        if (const Value* v = f->vars.find(name)) {
            charge_work(walked / 2);  // inside 60 nested loops a lookup walks 60 frames
            return v;
        }
    }
    charge_work(walked / 2);
    return nullptr;
}

// Binds loop or `set` targets: one name takes the value, several unpack a sequence.
void bind_targets(Dict& vars, const std::vector<std::string>& targets, const Value& value) {
    if (targets.size() == 1) {
        vars.set(targets[0], value);
        return;
    }
    List items = iterate(value);
    if (items.size() != targets.size()) {
        throw EvalError(items.size() > targets.size()
                            ? "too many values to unpack (expected " + std::to_string(targets.size()) + ")"
                            : "not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                                  std::to_string(items.size()) + ")");
    }
    for (size_t i = 0; i < targets.size(); ++i) vars.set(targets[i], items[i]);
}

}  // namespace

Interpreter::Interpreter(const std::string& template_name, const RenderLimits& limits)
    : name_(template_name), limits_(limits) {}

std::string Interpreter::render(const Body& body, const Dict& variables) {
    Budget budget(limits_);
    budget_ = &budget;
    struct Finish {
        Interpreter& in;
        ~Finish() {
            in.stats_ = in.budget_->stats();
            in.budget_ = nullptr;
        }
    } finish{*this};
    call_depth_ = 0;
    auto builtins = std::make_shared<Frame>();
    add_globals(builtins->vars);
    auto top = std::make_shared<Frame>();
    top->parent = builtins;
    top->vars = variables;
    std::string out;
    exec_body(body, top, out);
    return out;
}

void Interpreter::rethrow_at(SourcePos pos) {
    try {
        throw;
    } catch (const RaisedByTemplate& e) {
        // what() stays one line whatever the template's text; message() keeps the text as is.
        throw TemplateException(located(name_, pos, escape_control(e.what())), e.what());
    } catch (const EvalError& e) {
        throw Error(located(name_, pos, escape_control(e.what())));
    }
}

void Interpreter::step() {
    budget_->charge(1);
    budget_->check_stack();
}

void Interpreter::append(std::string& out, std::string_view text) {
    if (out.size() + text.size() > limits_.max_output_bytes) {
        throw EvalError("template output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
    }
    charge_bytes(text.size());
    out += text;
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) fail_undefined(callee);
    if (!callee.is_callable()) throw EvalError("'" + type_name(callee) + "' object is not callable");
    if (call_depth_ >= limits_.max_call_depth) {
        throw EvalError("calls nested deeper than " + std::to_string(limits_.max_call_depth) + " (endless recursion?)");
    }
    ++call_depth_;
    struct Leave {
        int& depth;
        ~Leave() { --depth; }
    } leave{call_depth_};
    return callee.callable().fn(*this, args);
}

// ---- statements ---------------------------------------------------------------------------

Interpreter::Flow Interpreter::exec_body(const Body& body, const FramePtr& frame, std::string& out) {
    for (const StmtPtr& s : body) {
        Flow flow;
        try {
            step();
            flow = exec(*s, frame, out);
        } catch (const EvalError&) {
            rethrow_at(s->pos);
        }
        if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const FramePtr& frame, std::string& out) {
    switch (s.kind) {
        case Stmt::Kind::Text: append(out, s.text); return Flow::Normal;
        case Stmt::Kind::Output: {
            Value v = eval(*s.expr, frame);
            append(out, v.is_string() ? v.as_string() : to_str(v));
            return Flow::Normal;
        }
        case Stmt::Kind::If:
            for (const auto& [cond, body] : s.branches) {
                if (!cond || truthy(eval(*cond, frame))) return exec_body(body, frame, out);
            }
            return Flow::Normal;
        case Stmt::Kind::For: exec_for(s, frame, out); return Flow::Normal;
        case Stmt::Kind::Set: exec_set(s, frame); return Flow::Normal;
        case Stmt::Kind::SetBlock: {
            std::string captured;
            Flow flow = exec_body(s.body, frame, captured);
            Value v(std::move(captured));
            if (s.expr) v = eval_filter(*s.expr, frame, &v);
            frame->vars.set(s.targets[0], std::move(v));
            return flow;
        }
        case Stmt::Kind::Macro: frame->vars.set(s.name, make_macro(s, frame)); return Flow::Normal;
        case Stmt::Kind::FilterBlock: {
            std::string captured;
            Flow flow = exec_body(s.body, frame, captured);
            Value input(std::move(captured));
            append(out, to_str(eval_filter(*s.expr, frame, &input)));
            return flow;
        }
        case Stmt::Kind::With: {
            auto inner = std::make_shared<Frame>();
            inner->parent = frame;
            for (size_t i = 0; i < s.targets.size(); ++i) inner->vars.set(s.targets[i], eval(*s.values[i], frame));
            return exec_body(s.body, inner, out);
        }
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
        case Stmt::Kind::Do: eval(*s.expr, frame); return Flow::Normal;
        case Stmt::Kind::Scope: return exec_body(s.body, frame, out);
    }
    return Flow::Normal;
}

void Interpreter::exec_for(const Stmt& s, const FramePtr& frame, std::string& out) {
    Value iterable = eval(*s.expr, frame);
    List items;
    try {
        items = iterate(iterable);
    } catch (const EvalError&) {
        rethrow_at(s.expr->pos);
    }
    if (s.cond) {
        // `for x in xs if cond`: filtered before the loop, so loop.length counts what is kept.
        List kept;
        for (Value& item : items) {
            auto probe = std::make_shared<Frame>();
            probe->parent = frame;
            bind_targets(probe->vars, s.targets, item);
            if (truthy(eval(*s.cond, probe))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        exec_body(s.else_body, frame, out);
        return;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
        step();  // an empty body still costs a step per iteration
        auto iteration = std::make_shared<Frame>();
        iteration->parent = frame;
        const auto k = static_cast<size_t>(i);
        Dict loop;
        loop.items = {
            {"index", Value(i + 1)},
            {"index0", Value(i)},
            {"revindex", Value(n - i)},
            {"revindex0", Value(n - i - 1)},
            {"first", Value(i == 0)},
            {"last", Value(i == n - 1)},
            {"length", Value(n)},
            {"depth", Value(1)},
            {"depth0", Value(0)},
            {"previtem", i > 0 ? items[k - 1] : Value::undefined("there is no previous item")},
            {"nextitem", i + 1 < n ? items[k + 1] : Value::undefined("there is no next item")},
            {"cycle", Value::callable("loop.cycle", [i](Interpreter&, CallArgs& args) -> Value {
                 if (args.positional.empty()) throw EvalError("no items for cycling given");
                 return args.positional[static_cast<size_t>(i) % args.positional.size()];
             })},
        };
        charge_items(loop.items.size());
        iteration->vars.set("loop", Value(std::move(loop)));
        bind_targets(iteration->vars, s.targets, items[k]);
        if (exec_body(s.body, iteration, out) == Flow::Break) break;
    }
}

void Interpreter::exec_set(const Stmt& s, const FramePtr& frame) {
    Value v = eval(*s.expr, frame);
    if (!s.attr.empty()) {
        const Value* target = lookup(frame, s.targets[0]);
        if (!target || !target->is_dict() || !target->dict().is_namespace) {
            throw EvalError("cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
        }
        check_no_cycle(*target, v);
        target->dict().set(s.attr, std::move(v));
        return;
    }
    bind_targets(frame->vars, s.targets, v);
}

Value Interpreter::make_macro(const Stmt& s, const FramePtr& frame) {
    // The macro sees its defining frame as it is when called (Jinja2 resolves names at call
    // time). A weak reference: the frame holds the macro, a strong one would never be freed.
    std::weak_ptr<Frame> closure = frame;
    const Stmt* macro = &s;
    return Value::callable(s.name, [macro, closure](Interpreter& in, CallArgs& args) {
        return in.call_macro(*macro, closure, args);
    });
}

Value Interpreter::call_macro(const Stmt& s, const std::weak_ptr<Frame>& closure, CallArgs& args) {
    FramePtr parent = closure.lock();
    if (!parent) throw EvalError("macro '" + s.name + "' called after the block defining it ended");
    if (args.positional.size() > s.params.size()) {
        throw EvalError("macro '" + s.name + "' takes not more than " + std::to_string(s.params.size()) +
                        " argument(s)");
    }
    for (const auto& [key, value] : args.keyword) {
        bool known = false;
        for (size_t i = 0; i < s.params.size(); ++i) {
            if (s.params[i].name != key) continue;
            if (i < args.positional.size()) throw EvalError("macro '" + s.name + "' got multiple values for '" + key + "'");
            known = true;
        }
        if (!known) throw EvalError("macro '" + s.name + "' has no argument named '" + key + "'");
    }
    auto f = std::make_shared<Frame>();
    f->parent = parent;
    for (size_t i = 0; i < s.params.size(); ++i) {
        const MacroParam& p = s.params[i];
        if (i < args.positional.size()) {
            f->vars.set(p.name, args.positional[i]);
            continue;
        }
        const Value* given = nullptr;
        for (const auto& [key, value] : args.keyword) {
            if (key == p.name) given = &value;
        }
        if (given) {
            f->vars.set(p.name, *given);
        } else if (p.default_value) {
            f->vars.set(p.name, eval(*p.default_value, f));
        } else {
            f->vars.set(p.name, Value::undefined("parameter '" + p.name + "' was not provided"));
        }
    }
    std::string out;
    exec_body(s.body, f, out);
    return Value(std::move(out));
}

// ---- expressions --------------------------------------------------------------------------

Value Interpreter::eval(const Expr& e, const FramePtr& frame) {
    try {
        return eval_inner(e, frame);
    } catch (const EvalError&) {
        rethrow_at(e.pos);
    }
}

CallArgs Interpreter::eval_args(const Expr& e, const FramePtr& frame) {
    CallArgs args;
    for (size_t i = e.first_arg(); i < e.args.size(); ++i) {
        const std::string& key = e.kwnames[i - e.first_arg()];
        Value v = eval(*e.args[i], frame);
        if (key.empty()) {
            args.positional.push_back(std::move(v));
        } else {
            args.keyword.emplace_back(key, std::move(v));
        }
    }
    return args;
}

Value Interpreter::eval_call(const Expr& e, const FramePtr& frame) {
    const Expr& callee = *e.args[0];
    if (callee.kind == Expr::Kind::Attr) {
        Value obj = eval(*callee.args[0], frame);
        CallArgs args = eval_args(e, frame);
        if (obj.is_dict()) {
            const Value* member = obj.dict().find(callee.name);
            if (member && member->is_callable()) return call(*member, args);
        }
        if (auto result = call_method(obj, callee.name, args)) return std::move(*result);
        return call(get_attr(obj, callee.name), args);
    }
    Value fn = eval(callee, frame);
    CallArgs args = eval_args(e, frame);
    return call(fn, args);
}

Value Interpreter::eval_filter(const Expr& e, const FramePtr& frame, const Value* block_input) {
    Value input;
    const Expr* inner = e.args[0].get();
    if (!inner) {
        input = *block_input;
    } else if (block_input && inner->kind == Expr::Kind::Filter) {
        input = eval_filter(*inner, frame, block_input);
    } else {
        input = eval(*inner, frame);
    }
    CallArgs args = eval_args(e, frame);
    return apply_filter(*this, e.name, std::move(input), args);
}

Value Interpreter::eval_inner(const Expr& e, const FramePtr& frame) {
    step();
    switch (e.kind) {
        case Expr::Kind::Literal: return e.value;
        case Expr::Kind::Name: {
            const Value* v = lookup(frame, e.name);
            return v ? *v : Value::undefined("'" + e.name + "' is undefined");
        }
        case Expr::Kind::ListLit: {
            List items;
            for (const ExprPtr& item : e.args) items.push_back(eval(*item, frame));
            return Value(std::move(items));
        }
        case Expr::Kind::DictLit: {
            Dict dict;
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                Value key = eval(*e.args[i], frame);
                if (!key.is_string()) throw EvalError("dict keys must be strings here, got " + type_name(key));
                dict.set(key.as_string(), eval(*e.args[i + 1], frame));
            }
            return Value(std::move(dict));
        }
        case Expr::Kind::Attr: return get_attr(eval(*e.args[0], frame), e.name);
        case Expr::Kind::Index: {
            Value obj = eval(*e.args[0], frame);
            return get_item(obj, eval(*e.args[1], frame));
        }
        case Expr::Kind::Slice: {
            Value obj = eval(*e.args[0], frame);
            Value bounds[3];
            const Value* ptrs[3] = {nullptr, nullptr, nullptr};
            for (int i = 0; i < 3; ++i) {
                if (e.args[static_cast<size_t>(i) + 1]) {
                    bounds[i] = eval(*e.args[static_cast<size_t>(i) + 1], frame);
                    ptrs[i] = &bounds[i];
                }
            }
            return slice(obj, ptrs[0], ptrs[1], ptrs[2]);
        }
        case Expr::Kind::Call: return eval_call(e, frame);
        case Expr::Kind::Filter: return eval_filter(e, frame, nullptr);
        case Expr::Kind::Test: {
            Value input = eval(*e.args[0], frame);
            CallArgs args = eval_args(e, frame);
            return Value(apply_test(*this, e.name, input, args) != e.negated);
        }
        case Expr::Kind::Unary: {
            Value v = eval(*e.args[0], frame);
            if (e.op == "not") return Value(!truthy(v));
            if (e.op == "-") return negate(v);
            if (!v.is_number()) negate(v);  // same error as unary minus
            return v;
        }
        case Expr::Kind::Binary: {
            Value a = eval(*e.args[0], frame);
            // `and` / `or` return an operand, as in Python, and skip the right side when they can.
            if (e.op == "and") return truthy(a) ? eval(*e.args[1], frame) : a;
            if (e.op == "or") return truthy(a) ? a : eval(*e.args[1], frame);
            Value b = eval(*e.args[1], frame);
            return binary_op(e.op, a, b);
        }
        case Expr::Kind::Compare: {
            Value left = eval(*e.args[0], frame);
            for (size_t i = 0; i < e.ops.size(); ++i) {
                Value right = eval(*e.args[i + 1], frame);
                const std::string& op = e.ops[i];
                bool ok;
                if (op == "==") {
                    ok = equals(left, right);
                } else if (op == "!=") {
                    ok = !equals(left, right);
                } else if (op == "in") {
                    ok = contains(right, left);
                } else if (op == "not in") {
                    ok = !contains(right, left);
                } else {
                    int c = compare(left, right);
                    ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
                }
                if (!ok) return Value(false);
                left = std::move(right);
            }
            return Value(true);
        }
        case Expr::Kind::CondExpr:
            if (truthy(eval(*e.args[1], frame))) return eval(*e.args[0], frame);
            if (e.args[2]) return eval(*e.args[2], frame);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
    return Value();
}

}  // namespace kiln::jinja
