// GBNF parsing: the notation llama.cpp's grammar files use, and a one-line error with the
// place for every malformed grammar.
#include <gtest/gtest.h>

#include "graph/error.h"
#include "grammar_test_support.h"
#include "models/grammar/grammar.h"

namespace kiln {
namespace {

using testing::grammar_accepts;

std::string parse_error(std::string_view text) {
    try {
        (void)Grammar::parse(text, "g.gbnf");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(GbnfParser, ReadsAJsonGrammarWrittenAsLlamaCppWritesThem) {
    const Grammar g = Grammar::parse(R"(
# JSON, in the style of llama.cpp's grammars/json.gbnf
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
)", "json.gbnf");
    EXPECT_TRUE(grammar_accepts(g, R"({"a": [1, 2.5, "x\n\u00e9"], "b": {"c": null}})"));
    EXPECT_TRUE(grammar_accepts(g, "{}"));
    EXPECT_FALSE(grammar_accepts(g, R"({"a": })"));
    EXPECT_FALSE(grammar_accepts(g, R"({"a": 1)"));
    EXPECT_FALSE(grammar_accepts(g, "[1]"));  // root is an object
}

TEST(GbnfParser, RepetitionsCountWhatTheySay) {
    const Grammar g = Grammar::parse(R"(root ::= "a"{2,3} "b"{2} "c"{1,} "d"? ("ef"){0,2})", "g");
    EXPECT_TRUE(grammar_accepts(g, "aabbc"));
    EXPECT_TRUE(grammar_accepts(g, "aaabbcccdefef"));
    EXPECT_FALSE(grammar_accepts(g, "abbc"));
    EXPECT_FALSE(grammar_accepts(g, "aaaabbc"));
    EXPECT_FALSE(grammar_accepts(g, "aabbbc"));
    EXPECT_FALSE(grammar_accepts(g, "aabb"));
    EXPECT_FALSE(grammar_accepts(g, "aabbcefefef"));
    EXPECT_FALSE(grammar_accepts(g, "aabbce"));
}

TEST(GbnfParser, ClassesRangesNegationAndUnicode) {
    const Grammar g = Grammar::parse(R"(root ::= [a-cx] [^a-z] "é" [α-ω]+ . [\u0041-\U0000005A] "\x21")", "g");
    EXPECT_TRUE(grammar_accepts(g, "b1éαβ€Q!"));
    EXPECT_TRUE(grammar_accepts(g, "xZéω\nA!"));
    EXPECT_FALSE(grammar_accepts(g, "d1éα€Q!"));   // d not in [a-cx]
    EXPECT_FALSE(grammar_accepts(g, "bqéα€Q!"));   // q in a-z
    EXPECT_FALSE(grammar_accepts(g, "b1eα€Q!"));   // e is not é
    EXPECT_FALSE(grammar_accepts(g, "b1éa€Q!"));   // Latin a is not in α-ω
    EXPECT_FALSE(grammar_accepts(g, "b1éα€q!"));   // lower case q
}

TEST(GbnfParser, RulesMayComeInAnyOrderAndSpanLines) {
    const Grammar g = Grammar::parse("root ::= greeting\n  | farewell\n"
                                     "farewell ::= \"bye\"\ngreeting ::=\n \"hi\" name\nname ::= [A-Z] [a-z]*",
                                     "g");
    EXPECT_TRUE(grammar_accepts(g, "bye"));
    EXPECT_TRUE(grammar_accepts(g, "hiBob"));
    EXPECT_FALSE(grammar_accepts(g, "hi"));
}

TEST(GbnfParser, MalformedGrammarsGetOneLineErrorsWithTheirPlace) {
    struct Case {
        const char* text;
        const char* expect;
    };
    const Case cases[] = {
        {"", "g.gbnf:1:1: the grammar is empty"},
        {"start ::= \"a\"", "g.gbnf: the grammar has no 'root' rule"},
        {"root ::= x", "g.gbnf:1:10: rule 'x' is used but not defined"},
        {"root ::= \"a\"\nroot ::= \"b\"", "g.gbnf:2:1: rule 'root' is defined twice"},
        {"root ::= root \"a\"", "rule 'root' is left-recursive (root -> root)"},
        {"root ::= a\na ::= b? a \"x\"\nb ::= \"y\"", "rule 'a' is left-recursive"},
        {"root ::= \"abc", "g.gbnf:1:10: unterminated string literal"},
        {"root ::= [abc", "g.gbnf:1:10: unterminated character class"},
        {"root ::= (\"a\"", "g.gbnf:1:10: unclosed '('"},
        {"root ::= \"\\q\"", "g.gbnf:1:11: unknown escape '\\q'"},
        {"root ::= \"\\x4\"", "expected 2 hex digits in the escape"},
        {"root ::= [z-a]", "character range with its end before its start"},
        {"root ::= \"a\"{3,2}", "repetition {m,n} with n < m"},
        {"root ::= \"a\"{99999}", "repetition count above 10000"},
        {"root ::= \"a\"**", "two repetition operators in a row"},
        {"root \"a\"", "g.gbnf:1:6: expected '::=' after rule name 'root'"},
        {"root ::= <think>", "token references (<...>) are not supported"},
        {"root ::= @", "g.gbnf:1:10: unexpected '@'"},
        {"root ::= \"a\xff\"", "invalid UTF-8"},
        {"root ::= \"\n\"", "a newline inside a string literal"},
    };
    for (const Case& c : cases) {
        const std::string e = parse_error(c.text);
        EXPECT_NE(e.find(c.expect), std::string::npos) << c.text << " gave: " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

TEST(GbnfParser, AGrammarThatExpandsTooFarIsRefused) {
    std::string big = "root ::=";
    for (int i = 0; i < 110; ++i) big += " \"a\"{10000}";  // 1.5 KB of text, 1.1M elements
    const std::string e = parse_error(big);
    EXPECT_NE(e.find("the grammar expands to more than 1048576 elements"), std::string::npos) << e;
}

TEST(GbnfParser, DeepNestingIsRefusedNotACrash) {
    std::string deep = "root ::= " + std::string(100000, '(') + "\"a\"" + std::string(100000, ')');
    EXPECT_NE(parse_error(deep).find("groups nested deeper than 200"), std::string::npos);
}

}  // namespace
}  // namespace kiln
