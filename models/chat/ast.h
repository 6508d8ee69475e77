#pragma once
// The syntax tree of a parsed template. Nodes are plain structs with a kind tag: the evaluator
// switches on the kind, which keeps each construct's semantics in one place.
#include <memory>
#include <string>
#include <vector>

#include "models/chat/lexer.h"
#include "models/chat/value.h"

namespace kiln::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Literal,   // value
        Name,      // name
        ListLit,   // args: items (also tuples)
        DictLit,   // args: key0, value0, key1, value1, ...
        Attr,      // object.name: args[0] = object
        Index,     // object[args[1]]: args[0] = object
        Slice,     // object[a:b:c]: args[0] = object, args[1..3] = start, stop, step (may be null)
        Call,      // args[0] = callee, then the call's arguments (see kwnames)
        Filter,    // args[0] = input (null inside `{% filter %}` / block set), name = filter
        Test,      // args[0] = input, name = test, negated for `is not`
        Unary,     // op: "-", "+", "not"; args[0]
        Binary,    // op: + - * / // % ** ~ and or in "not in"; args[0], args[1]
        Compare,   // chained comparison: args = operands, ops = operators (== != < <= > >=)
        CondExpr,  // args[0] if args[1] else args[2] (args[2] may be null)
    };

    Kind kind;
    SourcePos pos;
    Value value;
    std::string name;
    std::string op;
    std::vector<ExprPtr> args;
    // Call/Filter/Test arguments after the first `first_arg` entries of args: keyword name, or
    // "" for positional.
    std::vector<std::string> kwnames;
    std::vector<std::string> ops;
    bool negated = false;

    Expr(Kind k, SourcePos p) : kind(k), pos(p) {}
    // Index in args where call arguments start (callee / filter input come first).
    size_t first_arg() const { return kind == Kind::Call || kind == Kind::Filter || kind == Kind::Test ? 1 : 0; }
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // null when required
};

struct Stmt {
    enum class Kind {
        Text,         // text
        Output,       // {{ expr }}
        If,           // branches: (condition, body); a null condition is the else
        For,          // targets in expr [if cond]: body [else else_body]
        Set,          // targets = expr, or target.attr = expr (attr non-empty)
        SetBlock,     // {% set target %}body{% endset %}, optional filter in expr
        Macro,        // name(params): body
        FilterBlock,  // {% filter f %}body: expr is the filter with a null input
        With,         // {% with a = x, ... %}: targets/values, body
        Break,
        Continue,
        Do,           // {% do expr %}
        Scope,        // a body run as is ({% generation %})
    };

    Kind kind;
    SourcePos pos;
    std::string text;
    ExprPtr expr;
    ExprPtr cond;
    std::vector<std::string> targets;
    std::string attr;
    std::vector<ExprPtr> values;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body;
    Body else_body;
    std::string name;
    std::vector<MacroParam> params;

    Stmt(Kind k, SourcePos p) : kind(k), pos(p) {}
};

}  // namespace kiln::jinja
