#pragma once
// Where a grammar stands after some text: every way the text so far can continue, as a set of
// stacks of grammar positions (a pushdown automaton run breadth-first, so ambiguity costs
// stacks, never backtracking). Text is fed byte by byte; a UTF-8 character split across tokens
// is held until complete, and a partial one is only kept when some stack can still take a
// character that starts with those bytes.
#include <cstdint>
#include <string_view>
#include <vector>

#include "models/grammar/grammar.h"

namespace kiln {

struct GrammarState {
    // Stack i is positions[ends[i-1] .. ends[i]), its top last. An empty stack: the text so far
    // is a complete sentence of the grammar.
    std::vector<uint32_t> positions;
    std::vector<uint32_t> ends;
    uint32_t partial = 0;    // code point bits of an unfinished UTF-8 character
    uint8_t partial_left = 0;  // continuation bytes it still needs
    uint8_t partial_length = 0;  // its whole length in bytes (to refuse overlong forms)

    bool dead() const { return ends.empty(); }
    size_t stack_count() const { return ends.size(); }
};

class GrammarMatcher {
public:
    // Stacks per state above which a grammar is refused as too ambiguous (each extra reading of
    // the text so far is a stack: `("a" | "a")*` doubles them per character).
    static constexpr size_t kMaxStacks = 4096;
    static constexpr size_t kMaxDepth = 4096;  // nesting of rules, e.g. [[[[...]]]] in JSON

    explicit GrammarMatcher(const Grammar& grammar) : g_(grammar) {}

    // The state before any text.
    void start(GrammarState& out);
    // `in` followed by byte b; false (and `out` dead) when no continuation allows it.
    bool advance(const GrammarState& in, uint8_t b, GrammarState& out);
    // `in` followed by `text`, through two scratch states; false when some byte is refused.
    bool advance(GrammarState& state, std::string_view text, GrammarState& scratch);
    // True when the text so far is a complete sentence (and no character is half-done).
    static bool can_end(const GrammarState& s);
    // True when nothing but the end may follow.
    bool must_end(const GrammarState& s) const;

    const Grammar& grammar() const { return g_; }

private:
    bool advance_code_point(const GrammarState& in, uint32_t cp, GrammarState& out);
    bool could_take(const GrammarState& in, uint32_t lo, uint32_t hi) const;
    // Pushes the closure of stack_ (ending at a character element or empty) into out.
    void expand(GrammarState& out);
    void add_stack(GrammarState& out);

    const Grammar& g_;
    std::vector<uint32_t> stack_;  // the stack being expanded
};

}  // namespace kiln
