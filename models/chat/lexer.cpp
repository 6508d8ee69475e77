#include "models/chat/lexer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "graph/error.h"
#include "models/chat/text.h"

namespace kiln::jinja {

std::string located(const std::string& name, SourcePos pos, const std::string& message) {
    return name + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message;
}

namespace {

enum class TagKind { Block, Var, Comment };

// Text between tags, or one tag with its tokens. Whitespace control needs both neighbours of a
// text, so the source is first cut into pieces and the texts trimmed afterwards.
struct Piece {
    bool is_text = false;
    std::string text;
    size_t begin = 0;  // offset of the text in the source
    TagKind tag = TagKind::Block;
    char left_mod = 0, right_mod = 0;  // '-', '+' or 0
    std::vector<Token> tokens;         // the tag's tokens, BlockBegin/VarBegin ... End
};

bool is_space_char(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Strips Python-regex `\s` from the left / right (Unicode whitespace included).
size_t leading_space(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        size_t k = i;
        if (!text::is_space(text::decode(s, k))) break;
        i = k;
    }
    return i;
}

size_t trailing_space_start(std::string_view s) {
    std::vector<size_t> off = text::code_point_offsets(s);
    size_t k = off.size() - 1;
    while (k > 0) {
        size_t i = off[k - 1];
        if (!text::is_space(text::decode(s, i))) break;
        --k;
    }
    return off[k];
}

class Lexer {
public:
    Lexer(std::string_view source, const std::string& name) : name_(name) {
        // As Jinja2: every newline becomes "\n" and one trailing newline is dropped
        // (keep_trailing_newline=False).
        src_.reserve(source.size());
        for (size_t i = 0; i < source.size(); ++i) {
            if (source[i] == '\r') {
                src_ += '\n';
                if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
            } else {
                src_ += source[i];
            }
        }
        if (!src_.empty() && src_.back() == '\n') src_.pop_back();
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i) {
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    std::vector<Token> run() {
        cut_pieces();
        trim_texts();
        std::vector<Token> out;
        for (Piece& p : pieces_) {
            if (p.is_text) {
                if (!p.text.empty()) {
                    Token t;
                    t.kind = TokenKind::Text;
                    t.text = std::move(p.text);
                    t.pos = pos_at(p.begin);
                    out.push_back(std::move(t));
                }
            } else if (p.tag != TagKind::Comment) {
                for (Token& t : p.tokens) out.push_back(std::move(t));
            }
        }
        Token end;
        end.kind = TokenKind::End;
        end.pos = pos_at(src_.size());
        out.push_back(std::move(end));
        return out;
    }

private:
    SourcePos pos_at(size_t offset) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        size_t line = static_cast<size_t>(it - line_starts_.begin());
        size_t start = line_starts_[line - 1];
        // Positions are asked for in increasing order: counting on from the previous one keeps
        // a template that is one long line linear instead of quadratic.
        size_t from = start;
        uint32_t col = 1;
        if (memo_pos_.line == line && memo_offset_ >= start && memo_offset_ <= offset) {
            from = memo_offset_;
            col = memo_pos_.column;
        }
        col += static_cast<uint32_t>(text::length(std::string_view(src_).substr(from, offset - from)));
        memo_offset_ = offset;
        memo_pos_ = {static_cast<uint32_t>(line), col};
        return memo_pos_;
    }

    [[noreturn]] void fail(size_t offset, const std::string& message) const {
        throw Error(located(name_, pos_at(offset), message));
    }

    void add_text(size_t begin, size_t end) {
        Piece p;
        p.is_text = true;
        p.begin = begin;
        p.text = src_.substr(begin, end - begin);
        pieces_.push_back(std::move(p));
    }

    void cut_pieces() {
        size_t i = 0;
        while (i < src_.size()) {
            size_t tag = src_.find('{', i);
            while (tag != std::string::npos && tag + 1 < src_.size() && src_[tag + 1] != '{' && src_[tag + 1] != '%' &&
                   src_[tag + 1] != '#')
                tag = src_.find('{', tag + 1);
            if (tag == std::string::npos || tag + 1 >= src_.size()) {
                add_text(i, src_.size());
                return;
            }
            add_text(i, tag);
            char c = src_[tag + 1];
            i = c == '#' ? lex_comment(tag) : lex_tag(tag, c == '%' ? TagKind::Block : TagKind::Var);
        }
    }

    char modifier_at(size_t offset) const {
        return offset < src_.size() && (src_[offset] == '-' || src_[offset] == '+') ? src_[offset] : 0;
    }

    size_t lex_comment(size_t tag) {
        Piece p;
        p.tag = TagKind::Comment;
        p.left_mod = modifier_at(tag + 2);
        size_t end = src_.find("#}", tag + 2);
        if (end == std::string::npos) fail(tag, "unclosed comment");
        if (end > tag + 2) p.right_mod = modifier_at(end - 1);
        pieces_.push_back(std::move(p));
        return end + 2;
    }

    // Lexes one {% %} or {{ }} tag; returns the offset after it. A `{% raw %}` tag also takes
    // everything up to its `{% endraw %}` as text.
    size_t lex_tag(size_t tag, TagKind kind) {
        Piece p;
        p.tag = kind;
        p.left_mod = modifier_at(tag + 2);
        if (kind == TagKind::Var && p.left_mod == '+') p.left_mod = 0;  // `{{+x}}` is unary plus
        Token begin;
        begin.kind = kind == TagKind::Block ? TokenKind::BlockBegin : TokenKind::VarBegin;
        begin.pos = pos_at(tag);
        p.tokens.push_back(begin);
        size_t i = tag + 2 + (p.left_mod ? 1 : 0);
        const std::string_view close = kind == TagKind::Block ? "%}" : "}}";
        int depth = 0;
        for (;;) {
            while (i < src_.size() && is_space_char(src_[i])) ++i;
            if (i >= src_.size()) fail(tag, kind == TagKind::Block ? "unclosed '{%' tag" : "unclosed '{{' tag");
            if (depth == 0) {
                char mod = modifier_at(i);
                if (mod && std::string_view(src_).substr(i + 1, 2) == close && (mod == '-' || kind == TagKind::Block)) {
                    p.right_mod = mod;
                    i += 3;
                    break;
                }
                if (std::string_view(src_).substr(i, 2) == close) {
                    i += 2;
                    break;
                }
            }
            Token t = lex_token(i, p.tokens.back());
            if (t.kind == TokenKind::Operator) {
                if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
                if ((t.text == ")" || t.text == "]" || t.text == "}") && depth > 0) --depth;
            }
            p.tokens.push_back(std::move(t));
        }
        Token end;
        end.kind = kind == TagKind::Block ? TokenKind::BlockEnd : TokenKind::VarEnd;
        end.pos = pos_at(i - 2);
        p.tokens.push_back(end);
        bool is_raw = kind == TagKind::Block && p.tokens.size() == 3 && p.tokens[1].kind == TokenKind::Name &&
                      p.tokens[1].text == "raw";
        pieces_.push_back(std::move(p));
        return is_raw ? lex_raw(tag, i) : i;
    }

    size_t lex_raw(size_t tag, size_t body) {
        // Drop the raw tag's tokens: it only marks where verbatim text starts. Jinja2 applies no
        // trim_blocks after `{% raw %}`, which '+' expresses.
        pieces_.back().tokens.clear();
        if (!pieces_.back().right_mod) pieces_.back().right_mod = '+';
        for (size_t at = src_.find("{%", body); at != std::string::npos; at = src_.find("{%", at + 2)) {
            size_t k = at + 2;
            char left = modifier_at(k);
            if (left) ++k;
            while (k < src_.size() && is_space_char(src_[k])) ++k;
            if (std::string_view(src_).substr(k, 6) != "endraw") continue;
            k += 6;
            while (k < src_.size() && is_space_char(src_[k])) ++k;
            char right = modifier_at(k);
            if (right) ++k;
            if (std::string_view(src_).substr(k, 2) != "%}") continue;
            add_text(body, at);
            Piece end;
            end.tag = TagKind::Block;
            end.left_mod = left;
            end.right_mod = right;
            pieces_.push_back(std::move(end));
            return k + 2;
        }
        fail(tag, "unclosed raw block (no '{% endraw %}')");
    }

    Token lex_token(size_t& i, const Token& previous) {
        Token t;
        t.pos = pos_at(i);
        char c = src_[i];
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t start = i;
            while (i < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[i])) || src_[i] == '_')) ++i;
            t.kind = TokenKind::Name;
            t.text = src_.substr(start, i - start);
            return t;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            // After a dot only an integer can follow (`items.0`), as in Jinja2.
            bool after_dot = previous.kind == TokenKind::Operator && previous.text == ".";
            return lex_number(i, t, after_dot);
        }
        if (c == '\'' || c == '"') return lex_string(i, t);
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|", ";"};
        for (const char* op : kOps) {
            std::string_view o(op);
            if (std::string_view(src_).substr(i, o.size()) == o) {
                t.kind = TokenKind::Operator;
                t.text = std::string(o);
                i += o.size();
                return t;
            }
        }
        fail(i, std::string("unexpected character '") + c + "'");
    }

    Token lex_number(size_t& i, Token& t, bool integer_only) {
        std::string digits;
        auto take_digits = [&] {
            size_t n = 0;
            while (i < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[i])) || (src_[i] == '_' && n > 0))) {
                if (src_[i] != '_') digits += src_[i];
                ++i;
                ++n;
            }
        };
        size_t start = i;
        take_digits();
        bool is_float = false;
        if (!integer_only && i + 1 < src_.size() && src_[i] == '.' && std::isdigit(static_cast<unsigned char>(src_[i + 1]))) {
            is_float = true;
            digits += src_[i++];
            take_digits();
        }
        if (!integer_only && i < src_.size() && (src_[i] == 'e' || src_[i] == 'E')) {
            size_t k = i + 1;
            if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
            if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
                is_float = true;
                digits += 'e';
                digits.append(src_, i + 1, k - i - 1);
                i = k;
                take_digits();
            }
        }
        const char* first = digits.data();
        const char* last = first + digits.size();
        if (is_float) {
            t.kind = TokenKind::Float;
            std::from_chars(first, last, t.float_value);
        } else {
            t.kind = TokenKind::Int;
            auto res = std::from_chars(first, last, t.int_value);
            if (res.ec != std::errc()) fail(start, "integer literal too large");
        }
        return t;
    }

    // Python string literal escapes (Jinja2 decodes literals with "unicode-escape").
    Token lex_string(size_t& i, Token& t) {
        size_t start = i;
        char quote = src_[i++];
        std::string out;
        for (;;) {
            if (i >= src_.size()) fail(start, "unterminated string literal");
            char c = src_[i++];
            if (c == quote) break;
            if (c != '\\' || i >= src_.size()) {
                out += c;
                continue;
            }
            char e = src_[i++];
            auto hex = [&](int n) -> std::optional<uint32_t> {
                uint32_t v = 0;
                if (i + static_cast<size_t>(n) > src_.size()) return std::nullopt;
                auto res = std::from_chars(src_.data() + i, src_.data() + i + n, v, 16);
                if (res.ptr != src_.data() + i + n) return std::nullopt;
                i += static_cast<size_t>(n);
                return v;
            };
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'v': out += '\v'; break;
                case '\n': break;  // a backslash-newline continues the line
                case 'x':
                case 'u':
                case 'U': {
                    auto v = hex(e == 'x' ? 2 : (e == 'u' ? 4 : 8));
                    if (!v || *v > 0x10FFFF) fail(i, std::string("bad \\") + e + " escape in string literal");
                    kiln::append_utf8(out, *v);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        uint32_t v = static_cast<uint32_t>(e - '0');
                        for (int n = 1; n < 3 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++n) {
                            v = v * 8 + static_cast<uint32_t>(src_[i++] - '0');
                        }
                        kiln::append_utf8(out, v);
                    } else {
                        out += '\\';  // unknown escapes stay as written, as in Python
                        out += e;
                    }
            }
        }
        t.kind = TokenKind::String;
        t.text = std::move(out);
        return t;
    }

    void trim_texts() {
        for (size_t k = 0; k < pieces_.size(); ++k) {
            Piece& p = pieces_[k];
            if (!p.is_text) continue;
            size_t begin = p.begin;
            if (k > 0 && !pieces_[k - 1].is_text) {
                const Piece& prev = pieces_[k - 1];
                if (prev.right_mod == '-') {
                    size_t n = leading_space(p.text);
                    p.text.erase(0, n);
                    begin += n;
                } else if (prev.tag != TagKind::Var && prev.right_mod != '+' && !p.text.empty() && p.text[0] == '\n') {
                    p.text.erase(0, 1);  // trim_blocks: the newline after a block or comment tag
                    ++begin;
                }
            }
            if (k + 1 < pieces_.size() && !pieces_[k + 1].is_text) {
                const Piece& next = pieces_[k + 1];
                if (next.left_mod == '-') {
                    p.text.erase(trailing_space_start(p.text));
                } else if (next.tag != TagKind::Var && next.left_mod != '+') {
                    // lstrip_blocks: spaces between the start of a line and a block or comment tag.
                    size_t nl = p.text.rfind('\n');
                    size_t line = nl == std::string::npos ? 0 : nl + 1;
                    bool line_start = nl != std::string::npos || begin == 0 || src_[begin - 1] == '\n';
                    if (line_start && line < p.text.size() &&
                        trailing_space_start(std::string_view(p.text).substr(line)) == 0)
                        p.text.erase(line);
                }
            }
        }
    }

    const std::string& name_;
    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Piece> pieces_;
    mutable size_t memo_offset_ = 0;
    mutable SourcePos memo_pos_{0, 0};
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& name) {
    return Lexer(source, name).run();
}

}  // namespace kiln::jinja
