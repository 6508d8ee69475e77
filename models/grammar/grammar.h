#pragma once
// A context-free grammar over Unicode code points, written in GBNF (llama.cpp's notation, so
// users' grammar files carry over):
//
//   root   ::= "{" ws pair ("," ws pair)* "}"      # rules; `root` is where matching starts
//   pair   ::= [a-z]+ ":" ws [0-9]{1,3}
//   ws     ::= [ \t\n]*
//
// Literals "..." and character classes [a-z], [^"\\] with escapes (\n \r \t \\ \" \] \xHH
// \uHHHH \UHHHHHHHH), `.` (any character), groups ( ), alternatives |, repetitions * + ? {m}
// {m,} {m,n}, comments # to the end of the line. A rule ends where the next `name ::=` begins,
// so newlines are free anywhere.
//
// Compiled form: every alternative of every rule is a run of elements in one flat array,
// closed by an End element; a position in that array is what the matcher's stacks hold.
// Repetitions and groups become generated rules (right-recursive, so matching never nests
// deeper for a longer repetition). Left-recursive grammars are refused: a matcher expanding
// them would never stop.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

struct CodePointRange {
    uint32_t lo;
    uint32_t hi;  // inclusive
};

// A set of code points: sorted, disjoint ranges, or their complement.
struct CharClass {
    bool negated = false;
    std::vector<CodePointRange> ranges;

    bool matches(uint32_t cp) const;
    // True when some code point in [lo, hi] matches (a partial UTF-8 character's possibilities).
    bool matches_any(uint32_t lo, uint32_t hi) const;
};

class Grammar {
public:
    // Caps that keep a hostile grammar's compiled size bounded.
    static constexpr uint32_t kMaxRepetition = 10000;      // m and n of {m,n}
    static constexpr uint32_t kMaxElements = 1u << 20;     // after expanding repetitions
    static constexpr size_t kMaxNesting = 200;             // ( ( ( ... nesting

    // Parses and checks GBNF text. `source` names it in errors, which are one line:
    // "SOURCE:LINE:COL: what" (kiln::Error). Refuses undefined and twice-defined rules, a
    // missing `root`, and left recursion.
    static Grammar parse(std::string_view text, std::string_view source);

    enum class Kind : uint8_t { End, Chars, Rule };
    struct Element {
        Kind kind;
        uint32_t arg;  // Chars: class index; Rule: rule index
    };

    uint32_t root() const { return root_; }
    size_t rule_count() const { return alternatives_.size(); }
    // Start positions of a rule's alternatives.
    std::span<const uint32_t> alternatives(uint32_t rule) const { return alternatives_[rule]; }
    const Element& at(uint32_t pos) const { return elements_[pos]; }
    const CharClass& char_class(uint32_t i) const { return classes_[i]; }
    const std::string& rule_name(uint32_t rule) const { return names_[rule]; }
    size_t element_count() const { return elements_.size(); }

private:
    friend class GrammarBuilder;
    std::vector<Element> elements_;
    std::vector<std::vector<uint32_t>> alternatives_;
    std::vector<std::string> names_;
    std::vector<CharClass> classes_;
    uint32_t root_ = 0;
};

}  // namespace kiln
