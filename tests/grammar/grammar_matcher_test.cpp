// The matcher: byte-at-a-time progress, characters split across pieces, when the end may come,
// and ambiguity kept bounded.
#include <gtest/gtest.h>

#include "grammar_test_support.h"
#include "models/grammar/grammar.h"
#include "models/grammar/grammar_matcher.h"

namespace kiln {
namespace {

using testing::grammar_accepts;
using testing::grammar_allows_prefix;

TEST(GrammarMatcher, AUtf8CharacterSplitAcrossPiecesIsHeldUntilComplete) {
    const Grammar g = Grammar::parse(R"(root ::= "x" [à-ÿ] "y")", "g");
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    ASSERT_TRUE(m.advance(s, "x\xC3", scratch));  // first byte of é (U+00E9)
    EXPECT_FALSE(GrammarMatcher::can_end(s));
    GrammarState copy = s;
    ASSERT_TRUE(m.advance(s, "\xA9y", scratch));
    EXPECT_TRUE(GrammarMatcher::can_end(s));
    EXPECT_TRUE(m.must_end(s));
    // U+00C0..U+00FF all start with C3; C4 starts U+0100.. which the class refuses at once.
    EXPECT_FALSE(grammar_allows_prefix(g, "x\xC4"));
    EXPECT_FALSE(m.advance(copy, "\x80", scratch));  // C3 80 = U+00C0, below à (U+00E0)
    EXPECT_FALSE(grammar_allows_prefix(g, "x\x80"));  // a stray continuation byte
}

TEST(GrammarMatcher, OverlongAndSurrogateFormsAreNotCharacters) {
    // A decoder shows these as U+FFFD, so they must not pass for the character they spell.
    const Grammar g = Grammar::parse(R"(root ::= "a" | [\uD000-\uDFFF] | "\u0080")", "g");
    EXPECT_TRUE(grammar_accepts(g, "a"));
    EXPECT_FALSE(grammar_allows_prefix(g, "\xF0\x80"));          // F0 80 81 A1 would spell 'a'
    EXPECT_FALSE(grammar_accepts(g, "\xC1\xA1"));                // two-byte 'a'
    EXPECT_FALSE(grammar_accepts(g, "\xE0\x81\xA1"));            // three-byte 'a'
    EXPECT_FALSE(grammar_accepts(g, "\xED\xA0\x80"));            // U+D800, a surrogate
    EXPECT_FALSE(grammar_allows_prefix(g, "\xED\xAC"));          // only surrogates start so
    EXPECT_TRUE(grammar_accepts(g, "\xED\x80\x80"));             // U+D000
    EXPECT_TRUE(grammar_accepts(g, "\xC2\x80"));                 // U+0080
}

TEST(GrammarMatcher, CanEndAndMustEnd) {
    const Grammar g = Grammar::parse(R"(root ::= "a" "b"?)", "g");
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    EXPECT_FALSE(GrammarMatcher::can_end(s));
    ASSERT_TRUE(m.advance(s, "a", scratch));
    EXPECT_TRUE(GrammarMatcher::can_end(s));
    EXPECT_FALSE(m.must_end(s));
    ASSERT_TRUE(m.advance(s, "b", scratch));
    EXPECT_TRUE(m.must_end(s));
    EXPECT_FALSE(m.advance(s, "b", scratch));
    EXPECT_TRUE(s.dead());
}

TEST(GrammarMatcher, RightRecursionStaysFlatAndNestingIsTracked) {
    const Grammar g = Grammar::parse(R"(root ::= list
list ::= "[" (item ("," item)*)? "]"
item ::= list | [0-9]+)", "g");
    std::string text = "[";
    for (int i = 0; i < 5000; ++i) text += "1,";
    text += "2]";
    EXPECT_TRUE(grammar_accepts(g, text));
    std::string nested(300, '[');
    nested += std::string(300, ']');
    EXPECT_TRUE(grammar_accepts(g, nested));
    EXPECT_FALSE(grammar_accepts(g, nested + "]"));
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    ASSERT_TRUE(m.advance(s, text.substr(0, text.size() - 2), scratch));
    EXPECT_LE(s.positions.size(), 40u);  // a long flat list keeps short stacks
}

TEST(GrammarMatcher, AmbiguityIsBounded) {
    // Two readings of every "a": without merging equal stacks, 2^n of them.
    const Grammar g = Grammar::parse(R"(root ::= ("a" | "a")* "b")", "g");
    GrammarMatcher m(g);
    GrammarState s, scratch;
    m.start(s);
    ASSERT_TRUE(m.advance(s, std::string(64, 'a'), scratch));
    EXPECT_LE(s.stack_count(), 8u);
    ASSERT_TRUE(m.advance(s, "b", scratch));
    EXPECT_TRUE(GrammarMatcher::can_end(s));
}

}  // namespace
}  // namespace kiln
