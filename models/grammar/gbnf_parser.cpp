// GBNF text -> Grammar (grammar.h describes the notation). Recursive descent over the text;
// every error names the source, line and column.
#include <string>

#include "graph/error.h"
#include "graph/error_text.h"
#include "models/grammar/grammar.h"
#include "models/grammar/grammar_builder.h"
#include "models/utf8.h"

namespace kiln {
namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class GbnfParser {
public:
    GbnfParser(std::string_view text, std::string_view source)
        : text_(text), source_(source), builder_([this](const std::string& where, const std::string& what) {
              throw Error(where.empty() ? source_ + ": " + what : where + ": " + what);
          }) {}

    Grammar parse() {
        if (const size_t bad = utf8_first_invalid(text_); bad != std::string_view::npos)
            fail(bad, "invalid UTF-8");
        skip_space();
        if (pos_ == text_.size()) fail(pos_, "the grammar is empty");
        while (pos_ < text_.size()) parse_rule();
        return builder_.finish();
    }

private:
    [[noreturn]] void fail(size_t at, const std::string& what) { throw Error(where(at) + ": " + what); }

    std::string where(size_t at) const {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < text_.size(); ++i) {
            if (text_[i] == '\n') {
                ++line;
                col = 1;
            } else if ((uint8_t(text_[i]) & 0xC0) != 0x80) {
                ++col;
            }
        }
        return source_ + ":" + std::to_string(line) + ":" + std::to_string(col);
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_space() {
        while (!at_end()) {
            const char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++pos_;
            } else if (c == '#') {
                while (!at_end() && text_[pos_] != '\n') ++pos_;
            } else {
                break;
            }
        }
    }

    std::string_view name() {
        const size_t start = pos_;
        while (!at_end() && is_name_char(text_[pos_])) ++pos_;
        if (pos_ == start) fail(start, "expected a rule name");
        return text_.substr(start, pos_ - start);
    }

    // Lookahead: does a `name ::=` start here? (That ends the rule before it.)
    bool at_rule_start() const {
        size_t p = pos_;
        while (p < text_.size() && is_name_char(text_[p])) ++p;
        if (p == pos_) return false;
        while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
        return text_.substr(p, 3) == "::=";
    }

    void parse_rule() {
        const size_t start = pos_;
        const std::string_view n = name();
        skip_space();
        if (text_.substr(pos_, 3) != "::=") fail(pos_, "expected '::=' after rule name " + quoted(n));
        pos_ += 3;
        skip_space();
        const uint32_t id = builder_.rule(n, where(start));
        builder_.define(id, alternatives(std::string(n), 0), where(start));
    }

    std::vector<GrammarBuilder::Sequence> alternatives(const std::string& rule, size_t depth) {
        if (depth > Grammar::kMaxNesting)
            fail(pos_, "groups nested deeper than " + std::to_string(Grammar::kMaxNesting));
        std::vector<GrammarBuilder::Sequence> alts;
        alts.push_back(sequence(rule, depth));
        while (peek() == '|') {
            ++pos_;
            skip_space();
            alts.push_back(sequence(rule, depth));
        }
        return alts;
    }

    GrammarBuilder::Sequence sequence(const std::string& rule, size_t depth) {
        GrammarBuilder::Sequence seq;
        while (!at_end() && peek() != '|' && peek() != ')' && !at_rule_start()) {
            const size_t item_start = seq.size();
            const size_t at = pos_;
            primary(seq, rule, depth);
            skip_space();
            repetition(seq, item_start, rule, at);
        }
        return seq;
    }

    void primary(GrammarBuilder::Sequence& seq, const std::string& rule, size_t depth) {
        const size_t at = pos_;
        const char c = peek();
        if (c == '"') {
            ++pos_;
            while (peek() != '"') {
                if (at_end()) fail(at, "unterminated string literal");
                const uint32_t cp = character(false);
                seq.push_back(builder_.chars({false, {{cp, cp}}}));
            }
            ++pos_;
        } else if (c == '[') {
            ++pos_;
            CharClass cls;
            if (peek() == '^') {
                cls.negated = true;
                ++pos_;
            }
            while (peek() != ']') {
                if (at_end()) fail(at, "unterminated character class");
                const uint32_t lo = character(true);
                uint32_t hi = lo;
                if (peek() == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ']') {
                    ++pos_;
                    hi = character(true);
                    if (hi < lo) fail(at, "character range with its end before its start");
                }
                cls.ranges.push_back({lo, hi});
            }
            ++pos_;
            seq.push_back(builder_.chars(std::move(cls)));
        } else if (c == '.') {
            ++pos_;
            seq.push_back(builder_.chars({true, {}}));
        } else if (c == '(') {
            ++pos_;
            skip_space();
            auto alts = alternatives(rule, depth + 1);
            if (peek() != ')') fail(at, "unclosed '('");
            ++pos_;
            seq.push_back(GrammarBuilder::ref(builder_.generated(rule, std::move(alts))));
        } else if (is_name_char(c)) {
            const std::string_view n = name();
            seq.push_back(GrammarBuilder::ref(builder_.rule(n, where(at))));
        } else if (c == '<') {
            fail(at, "token references (<...>) are not supported; write the token's text as a literal");
        } else {
            fail(at, "unexpected " + quoted(std::string(1, c)));
        }
    }

    // One character of a literal or class: an escape or one UTF-8 sequence.
    uint32_t character(bool in_class) {
        const size_t at = pos_;
        if (peek() != '\\') {
            const size_t n = utf8_sequence_length(text_, pos_);  // valid: checked up front
            uint32_t cp = uint8_t(text_[pos_]);
            if (n > 1) {
                cp &= 0x7Fu >> n;
                for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(text_[pos_ + k]) & 0x3F);
            }
            pos_ += n;
            if (!in_class && cp == '\n') fail(at, "a newline inside a string literal (write \\n)");
            return cp;
        }
        ++pos_;
        const char e = peek();
        ++pos_;
        switch (e) {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/': return uint32_t(e);
            case 'x': return hex(2, at);
            case 'u': return hex(4, at);
            case 'U': return hex(8, at);
            default: fail(at, "unknown escape " + quoted(std::string("\\") + e));
        }
    }

    uint32_t hex(int digits, size_t at) {
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
            const char c = peek();
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0) fail(at, "expected " + std::to_string(digits) + " hex digits in the escape");
            v = v * 16 + uint32_t(d);
            ++pos_;
        }
        if (v > 0x10FFFF) fail(at, "escape beyond U+10FFFF");
        return v;
    }

    uint32_t number() {
        const size_t at = pos_;
        uint64_t v = 0;
        if (!(peek() >= '0' && peek() <= '9')) fail(at, "expected a number");
        while (peek() >= '0' && peek() <= '9') {
            v = v * 10 + uint64_t(peek() - '0');
            if (v > Grammar::kMaxRepetition) fail(at, "repetition count above " + std::to_string(Grammar::kMaxRepetition));
            ++pos_;
        }
        return uint32_t(v);
    }

    void repetition(GrammarBuilder::Sequence& seq, size_t item_start, const std::string& rule, size_t at) {
        const char c = peek();
        uint32_t min = 0;
        int64_t max = -1;
        if (c == '*') {
            ++pos_;
        } else if (c == '+') {
            ++pos_;
            min = 1;
        } else if (c == '?') {
            ++pos_;
            max = 1;
        } else if (c == '{') {
            ++pos_;
            skip_space();
            min = number();
            skip_space();
            max = min;
            if (peek() == ',') {
                ++pos_;
                skip_space();
                max = peek() == '}' ? -1 : int64_t(number());
                skip_space();
            }
            if (peek() != '}') fail(pos_, "expected '}' to close the repetition");
            ++pos_;
        } else {
            return;
        }
        builder_.repeat(seq, item_start, min, max, rule, where(at));
        skip_space();
        if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')
            fail(pos_, "two repetition operators in a row (use a group)");
    }

    std::string_view text_;
    std::string source_;
    size_t pos_ = 0;
    GrammarBuilder builder_;
};

}  // namespace

Grammar Grammar::parse(std::string_view text, std::string_view source) { return GbnfParser(text, source).parse(); }

}  // namespace kiln
