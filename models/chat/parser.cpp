#include "models/chat/parser.h"

#include <initializer_list>

#include "graph/error.h"

namespace kiln::jinja {

namespace {

// Deep enough for any real template, shallow enough that recursion cannot overflow the stack.
constexpr int kMaxNesting = 200;

class Parser {
public:
    Parser(std::vector<Token> tokens, const std::string& name) : tokens_(std::move(tokens)), name_(name) {}

    Body parse() {
        Body body;
        std::string end = parse_body(body, {}, "", {});
        (void)end;
        return body;
    }

private:
    // ---- token helpers --------------------------------------------------------------------
    const Token& cur() const { return tokens_[pos_]; }
    const Token& peek(size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
    void advance() {
        if (pos_ + 1 < tokens_.size()) ++pos_;
    }
    bool is_op(std::string_view op, const Token* t = nullptr) const {
        const Token& k = t ? *t : cur();
        return k.kind == TokenKind::Operator && k.text == op;
    }
    bool is_name(std::string_view word, const Token* t = nullptr) const {
        const Token& k = t ? *t : cur();
        return k.kind == TokenKind::Name && k.text == word;
    }
    bool accept_op(std::string_view op) {
        if (!is_op(op)) return false;
        advance();
        return true;
    }
    bool accept_name(std::string_view word) {
        if (!is_name(word)) return false;
        advance();
        return true;
    }

    static std::string describe(const Token& t) {
        switch (t.kind) {
            case TokenKind::Text: return "text";
            case TokenKind::BlockBegin: return "'{%'";
            case TokenKind::BlockEnd: return "end of statement '%}'";
            case TokenKind::VarBegin: return "'{{'";
            case TokenKind::VarEnd: return "end of print statement '}}'";
            case TokenKind::Name: return "'" + t.text + "'";
            case TokenKind::String: return "string literal";
            case TokenKind::Int:
            case TokenKind::Float: return "number";
            case TokenKind::Operator: return "'" + t.text + "'";
            case TokenKind::End: return "end of template";
        }
        return "token";
    }

    [[noreturn]] void fail(const std::string& message) const { fail_at(cur().pos, message); }
    [[noreturn]] void fail_at(SourcePos pos, const std::string& message) const {
        throw Error(located(name_, pos, message));
    }
    [[noreturn]] void unexpected(const std::string& wanted) const {
        fail("expected " + wanted + ", got " + describe(cur()));
    }

    void expect_op(std::string_view op) {
        if (!accept_op(op)) unexpected("'" + std::string(op) + "'");
    }
    void expect_block_end() {
        if (cur().kind != TokenKind::BlockEnd) unexpected("end of statement '%}'");
        advance();
    }
    std::string expect_identifier() {
        if (cur().kind != TokenKind::Name) unexpected("a name");
        std::string n = cur().text;
        advance();
        return n;
    }

    struct DepthGuard {
        DepthGuard(Parser& p) : p_(p) {
            if (++p_.depth_ > kMaxNesting) p_.fail("template nested too deeply");
        }
        ~DepthGuard() { --p_.depth_; }
        Parser& p_;
    };

    // ---- statements -----------------------------------------------------------------------

    // Parses statements until a block tag whose keyword is in `ends`; returns that keyword with
    // the token position just after it. `opener` names the block for "unclosed" errors.
    std::string parse_body(Body& body, std::initializer_list<std::string_view> ends, std::string_view opener,
                           SourcePos opened_at = {}) {
        DepthGuard guard(*this);
        for (;;) {
            const Token& t = cur();
            switch (t.kind) {
                case TokenKind::Text: {
                    auto s = std::make_unique<Stmt>(Stmt::Kind::Text, t.pos);
                    s->text = t.text;
                    body.push_back(std::move(s));
                    advance();
                    break;
                }
                case TokenKind::VarBegin: {
                    auto s = std::make_unique<Stmt>(Stmt::Kind::Output, t.pos);
                    advance();
                    s->expr = parse_tuple();
                    if (cur().kind != TokenKind::VarEnd) unexpected("end of print statement '}}'");
                    advance();
                    body.push_back(std::move(s));
                    break;
                }
                case TokenKind::BlockBegin: {
                    advance();
                    if (cur().kind != TokenKind::Name) unexpected("a statement name");
                    for (std::string_view e : ends) {
                        if (cur().text == e) {
                            std::string word = cur().text;
                            advance();
                            return word;
                        }
                    }
                    body.push_back(parse_statement(t.pos));
                    break;
                }
                case TokenKind::End:
                    if (ends.size() == 0) return "";
                    fail_at(opened_at, "unclosed '" + std::string(opener) + "' block: expected '{% " +
                                           std::string(*std::prev(ends.end())) + " %}' before the end of the template");
                default: unexpected("text or a tag");
            }
        }
    }

    StmtPtr parse_statement(SourcePos pos) {
        std::string word = cur().text;
        if (word == "if") return parse_if(pos);
        if (word == "for") return parse_for(pos);
        if (word == "set") return parse_set(pos);
        if (word == "macro") return parse_macro(pos);
        if (word == "filter") return parse_filter_block(pos);
        if (word == "with") return parse_with(pos);
        if (word == "break" || word == "continue") {
            if (loop_depth_ == 0) fail("'" + word + "' outside of a loop");
            advance();
            expect_block_end();
            return std::make_unique<Stmt>(word == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, pos);
        }
        if (word == "do") {
            advance();
            auto s = std::make_unique<Stmt>(Stmt::Kind::Do, pos);
            s->expr = parse_tuple();
            expect_block_end();
            return s;
        }
        if (word == "generation") {  // Hugging Face's AssistantTracker: renders its body unchanged
            advance();
            expect_block_end();
            auto s = std::make_unique<Stmt>(Stmt::Kind::Scope, pos);
            parse_body(s->body, {"endgeneration"}, "generation", pos);
            expect_block_end();
            return s;
        }
        if (word == "call" || word == "include" || word == "import" || word == "from" || word == "extends" ||
            word == "block" || word == "autoescape")
            fail("the '" + word + "' tag is not supported in chat templates");
        fail("unknown tag '" + word + "'");
    }

    StmtPtr parse_if(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::If, pos);
        ExprPtr cond = parse_expression();
        expect_block_end();
        for (;;) {
            Body body;
            std::string end = parse_body(body, {"elif", "else", "endif"}, "if", pos);
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (end == "elif") {
                cond = parse_expression();
                expect_block_end();
                continue;
            }
            expect_block_end();
            if (end == "else") {
                Body else_body;
                parse_body(else_body, {"endif"}, "if", pos);
                expect_block_end();
                s->branches.emplace_back(nullptr, std::move(else_body));
            }
            return s;
        }
    }

    void parse_targets(std::vector<std::string>& targets) {
        bool paren = accept_op("(");
        do {
            targets.push_back(expect_identifier());
        } while (accept_op(",") && cur().kind == TokenKind::Name);
        if (paren) expect_op(")");
    }

    StmtPtr parse_for(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::For, pos);
        parse_targets(s->targets);
        if (!accept_name("in")) unexpected("'in'");
        // No conditional expression here: a trailing `if` filters the loop, as in Jinja2.
        s->expr = parse_tuple(/*with_condexpr=*/false);
        if (accept_name("if")) s->cond = parse_expression();
        if (is_name("recursive")) fail("recursive loops are not supported");
        expect_block_end();
        ++loop_depth_;
        std::string end = parse_body(s->body, {"else", "endfor"}, "for", pos);
        --loop_depth_;
        expect_block_end();
        if (end == "else") {
            parse_body(s->else_body, {"endfor"}, "for", pos);
            expect_block_end();
        }
        return s;
    }

    StmtPtr parse_set(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::Set, pos);
        s->targets.push_back(expect_identifier());
        if (accept_op(".")) {
            s->attr = expect_identifier();
        } else {
            while (accept_op(",")) s->targets.push_back(expect_identifier());
        }
        if (accept_op("=")) {
            s->expr = parse_tuple();
            expect_block_end();
            return s;
        }
        if (s->targets.size() != 1 || !s->attr.empty()) unexpected("'='");
        s->kind = Stmt::Kind::SetBlock;
        if (accept_op("|")) s->expr = parse_filter_chain(nullptr);
        expect_block_end();
        parse_body(s->body, {"endset"}, "set", pos);
        expect_block_end();
        return s;
    }

    StmtPtr parse_macro(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::Macro, pos);
        s->name = expect_identifier();
        expect_op("(");
        while (!accept_op(")")) {
            MacroParam p;
            p.name = expect_identifier();
            if (accept_op("=")) p.default_value = parse_expression();
            s->params.push_back(std::move(p));
            if (!is_op(")")) expect_op(",");
        }
        expect_block_end();
        int saved = loop_depth_;
        loop_depth_ = 0;  // a macro body is not inside the caller's loop
        parse_body(s->body, {"endmacro"}, "macro", pos);
        loop_depth_ = saved;
        if (cur().kind == TokenKind::Name) advance();  // `{% endmacro name %}`
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::FilterBlock, pos);
        s->expr = parse_filter_chain(nullptr);
        expect_block_end();
        parse_body(s->body, {"endfilter"}, "filter", pos);
        expect_block_end();
        return s;
    }

    StmtPtr parse_with(SourcePos pos) {
        advance();
        auto s = std::make_unique<Stmt>(Stmt::Kind::With, pos);
        while (cur().kind != TokenKind::BlockEnd) {
            if (!s->targets.empty()) expect_op(",");
            s->targets.push_back(expect_identifier());
            expect_op("=");
            s->values.push_back(parse_expression());
        }
        expect_block_end();
        parse_body(s->body, {"endwith"}, "with", pos);
        expect_block_end();
        return s;
    }

    // ---- expressions ----------------------------------------------------------------------

    ExprPtr make(Expr::Kind kind, SourcePos pos) { return std::make_unique<Expr>(kind, pos); }

    ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, SourcePos pos) {
        auto e = make(Expr::Kind::Binary, pos);
        e->op = std::move(op);
        e->args.push_back(std::move(a));
        e->args.push_back(std::move(b));
        return e;
    }

    // An expression, or several separated by commas (a tuple, kept as a list).
    ExprPtr parse_tuple(bool with_condexpr = true) {
        SourcePos pos = cur().pos;
        ExprPtr first = with_condexpr ? parse_expression() : parse_or();
        if (!is_op(",")) return first;
        auto list = make(Expr::Kind::ListLit, pos);
        list->args.push_back(std::move(first));
        while (accept_op(",")) {
            if (cur().kind == TokenKind::BlockEnd || cur().kind == TokenKind::VarEnd || is_op(")")) break;
            list->args.push_back(with_condexpr ? parse_expression() : parse_or());
        }
        return list;
    }

    ExprPtr parse_expression() {
        DepthGuard guard(*this);
        SourcePos pos = cur().pos;
        ExprPtr e = parse_or();
        while (accept_name("if")) {
            auto c = make(Expr::Kind::CondExpr, pos);
            c->args.push_back(std::move(e));
            c->args.push_back(parse_or());
            c->args.push_back(accept_name("else") ? parse_expression() : nullptr);
            e = std::move(c);
        }
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            SourcePos pos = cur().pos;
            advance();
            e = binary("or", std::move(e), parse_and(), pos);
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            SourcePos pos = cur().pos;
            advance();
            e = binary("and", std::move(e), parse_not(), pos);
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this);
            auto e = make(Expr::Kind::Unary, cur().pos);
            advance();
            e->op = "not";
            e->args.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        SourcePos pos = cur().pos;
        ExprPtr first = parse_math1();
        ExprPtr chain;
        for (;;) {
            std::string op;
            if (cur().kind == TokenKind::Operator &&
                (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
                 cur().text == ">" || cur().text == ">=")) {
                op = cur().text;
                advance();
            } else if (is_name("in")) {
                op = "in";
                advance();
            } else if (is_name("not") && is_name("in", &peek())) {
                op = "not in";
                advance();
                advance();
            } else {
                break;
            }
            if (!chain) {
                chain = make(Expr::Kind::Compare, pos);
                chain->args.push_back(std::move(first));
            }
            chain->ops.push_back(op);
            chain->args.push_back(parse_math1());
        }
        return chain ? std::move(chain) : std::move(first);
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            SourcePos pos = cur().pos;
            std::string op = cur().text;
            advance();
            e = binary(op, std::move(e), parse_concat(), pos);
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            SourcePos pos = cur().pos;
            advance();
            e = binary("~", std::move(e), parse_math2(), pos);
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            SourcePos pos = cur().pos;
            std::string op = cur().text;
            advance();
            e = binary(op, std::move(e), parse_pow(), pos);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            SourcePos pos = cur().pos;
            advance();
            e = binary("**", std::move(e), parse_unary(true), pos);
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard guard(*this);
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            e = make(Expr::Kind::Unary, cur().pos);
            e->op = cur().text;
            advance();
            e->args.push_back(parse_unary(false));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filters_and_tests(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        SourcePos pos = t.pos;
        switch (t.kind) {
            case TokenKind::Name: {
                auto e = make(Expr::Kind::Literal, pos);
                if (t.text == "true" || t.text == "True") {
                    e->value = Value(true);
                } else if (t.text == "false" || t.text == "False") {
                    e->value = Value(false);
                } else if (t.text == "none" || t.text == "None") {
                    e->value = Value::none();
                } else {
                    e->kind = Expr::Kind::Name;
                    e->name = t.text;
                }
                advance();
                return e;
            }
            case TokenKind::String: {
                std::string s;
                while (cur().kind == TokenKind::String) {  // adjacent literals concatenate
                    s += cur().text;
                    advance();
                }
                auto e = make(Expr::Kind::Literal, pos);
                e->value = Value(std::move(s));
                return e;
            }
            case TokenKind::Int:
            case TokenKind::Float: {
                auto e = make(Expr::Kind::Literal, pos);
                e->value = t.kind == TokenKind::Int ? Value(t.int_value) : Value(t.float_value);
                advance();
                return e;
            }
            case TokenKind::Operator:
                if (t.text == "(") {
                    advance();
                    if (accept_op(")")) return make(Expr::Kind::ListLit, pos);  // ()
                    ExprPtr e = parse_tuple();
                    expect_op(")");
                    return e;
                }
                if (t.text == "[") {
                    advance();
                    auto e = make(Expr::Kind::ListLit, pos);
                    while (!accept_op("]")) {
                        e->args.push_back(parse_expression());
                        if (!is_op("]")) expect_op(",");
                    }
                    return e;
                }
                if (t.text == "{") {
                    advance();
                    auto e = make(Expr::Kind::DictLit, pos);
                    while (!accept_op("}")) {
                        e->args.push_back(parse_expression());
                        expect_op(":");
                        e->args.push_back(parse_expression());
                        if (!is_op("}")) expect_op(",");
                    }
                    return e;
                }
                break;
            default: break;
        }
        fail("unexpected " + describe(t));
    }

    ExprPtr parse_postfix(ExprPtr e) {
        for (;;) {
            SourcePos pos = e->pos;  // errors in `a.b(c)[d]` point at where `a` starts
            if (accept_op(".")) {
                if (cur().kind == TokenKind::Int) {  // `x.0` is x[0]
                    auto idx = make(Expr::Kind::Literal, cur().pos);
                    idx->value = Value(cur().int_value);
                    advance();
                    auto n = make(Expr::Kind::Index, pos);
                    n->args.push_back(std::move(e));
                    n->args.push_back(std::move(idx));
                    e = std::move(n);
                    continue;
                }
                auto n = make(Expr::Kind::Attr, pos);
                n->name = expect_identifier();
                n->args.push_back(std::move(e));
                e = std::move(n);
            } else if (accept_op("[")) {
                e = parse_subscript(std::move(e), pos);
            } else if (is_op("(")) {
                auto n = make(Expr::Kind::Call, pos);
                n->args.push_back(std::move(e));
                parse_call_args(*n);
                e = std::move(n);
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr object, SourcePos pos) {
        ExprPtr start;
        if (!is_op(":")) {
            start = parse_expression();
            if (accept_op("]")) {
                auto n = make(Expr::Kind::Index, pos);
                n->args.push_back(std::move(object));
                n->args.push_back(std::move(start));
                return n;
            }
        }
        expect_op(":");
        auto n = make(Expr::Kind::Slice, pos);
        n->args.push_back(std::move(object));
        n->args.push_back(std::move(start));
        n->args.push_back(is_op(":") || is_op("]") ? nullptr : parse_expression());
        ExprPtr step;
        if (accept_op(":") && !is_op("]")) step = parse_expression();
        n->args.push_back(std::move(step));
        expect_op("]");
        return n;
    }

    // `( args )` onto a Call, Filter or Test node.
    void parse_call_args(Expr& call) {
        expect_op("(");
        while (!accept_op(")")) {
            if (is_op("*") || is_op("**")) fail("'*' and '**' arguments are not supported");
            if (cur().kind == TokenKind::Name && is_op("=", &peek())) {
                call.kwnames.push_back(cur().text);
                advance();
                advance();
            } else {
                for (const std::string& k : call.kwnames) {
                    if (!k.empty()) fail("positional argument after a keyword argument");
                }
                call.kwnames.push_back("");
            }
            call.args.push_back(parse_expression());
            if (!is_op(")")) expect_op(",");
        }
    }

    // `| f(args) | g` applied to `input` (null for `{% filter %}` and block set).
    ExprPtr parse_filter_chain(ExprPtr input) {
        do {
            auto f = make(Expr::Kind::Filter, cur().pos);
            f->name = expect_identifier();
            f->args.push_back(std::move(input));
            if (is_op("(")) parse_call_args(*f);
            input = std::move(f);
        } while (accept_op("|"));
        return input;
    }

    ExprPtr parse_filters_and_tests(ExprPtr e) {
        for (;;) {
            if (accept_op("|")) {
                auto f = make(Expr::Kind::Filter, cur().pos);
                f->name = expect_identifier();
                f->args.push_back(std::move(e));
                if (is_op("(")) parse_call_args(*f);
                e = std::move(f);
            } else if (is_name("is")) {
                auto t = make(Expr::Kind::Test, cur().pos);
                advance();
                t->negated = accept_name("not");
                t->name = expect_identifier();
                t->args.push_back(std::move(e));
                if (is_op("(")) {
                    parse_call_args(*t);
                } else if (starts_test_argument()) {
                    // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
                    t->kwnames.push_back("");
                    t->args.push_back(parse_postfix(parse_primary()));
                }
                e = std::move(t);
            } else {
                return e;
            }
        }
    }

    bool starts_test_argument() const {
        const Token& t = cur();
        if (t.kind == TokenKind::Name) {
            return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "if" && t.text != "in" &&
                   t.text != "not" && t.text != "is";
        }
        return t.kind == TokenKind::String || t.kind == TokenKind::Int || t.kind == TokenKind::Float ||
               is_op("[") || is_op("{");
    }

    std::vector<Token> tokens_;
    const std::string& name_;
    size_t pos_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source, const std::string& name) {
    return Parser(tokenize(source, name), name).parse();
}

}  // namespace kiln::jinja
