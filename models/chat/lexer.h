#pragma once
// Splits a template into text and tag tokens, applying Jinja2's whitespace control as Hugging
// Face configures it (trim_blocks, lstrip_blocks, `-` and `+` modifiers, no trailing newline).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::jinja {

struct SourcePos {
    uint32_t line = 1;
    uint32_t column = 1;  // in code points, from 1
};

// "name:line:column: message", the one-line form of every template error.
std::string located(const std::string& name, SourcePos pos, const std::string& message);

enum class TokenKind : uint8_t {
    Text,        // literal output, already whitespace-trimmed
    BlockBegin,  // {%
    BlockEnd,    // %}
    VarBegin,    // {{
    VarEnd,      // }}
    Name,
    String,  // text holds the decoded value
    Int,
    Float,
    Operator,  // text holds the operator: "+", "//", "==", "(", ...
    End,
};

struct Token {
    TokenKind kind = TokenKind::End;
    std::string text;
    int64_t int_value = 0;
    double float_value = 0;
    SourcePos pos;
};

// Throws kiln::Error ("name:line:column: ...") for unclosed tags, comments or strings and
// characters that start no token. The last token is always End.
std::vector<Token> tokenize(std::string_view source, const std::string& name);

}  // namespace kiln::jinja
