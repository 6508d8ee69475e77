#pragma once
// Builds a Grammar rule by rule (the GBNF parser and tests use it): names become rule ids on
// first mention, groups and repetitions become generated rules, and finish() checks the whole.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "models/grammar/grammar.h"

namespace kiln {

class GrammarBuilder {
public:
    using Sequence = std::vector<Grammar::Element>;  // one alternative, without its End
    // Reports a problem found at `where` (a location the caller understands) and does not return.
    using Fail = std::function<void(const std::string& where, const std::string& what)>;

    explicit GrammarBuilder(Fail fail) : fail_(std::move(fail)) {}

    // The id of the rule named `name`, created undefined on first mention. `where` is kept for
    // the "undefined rule" error.
    uint32_t rule(std::string_view name, const std::string& where);
    // Gives a named rule its alternatives; a second definition is an error.
    void define(uint32_t rule, std::vector<Sequence> alternatives, const std::string& where);
    // A new rule with a generated name ("<base>#<n>") and these alternatives.
    uint32_t generated(std::string_view base, std::vector<Sequence> alternatives);
    // The element matching one character of `c` (equal classes share one entry).
    Grammar::Element chars(CharClass c);
    static Grammar::Element ref(uint32_t rule) { return {Grammar::Kind::Rule, rule}; }

    // Replaces seq[start..] (one item) with `min` to `max` copies of it; max < 0: no upper bound.
    void repeat(Sequence& seq, size_t start, uint32_t min, int64_t max, std::string_view base, const std::string& where);

    // Checks (root defined, every rule defined, no left recursion) and compiles.
    Grammar finish();

private:
    void count(size_t elements, const std::string& where);
    bool nullable(uint32_t rule) const { return nullable_[rule]; }
    void compute_nullable();
    void check_left_recursion();

    Fail fail_;
    std::map<std::string, uint32_t, std::less<>> ids_;
    std::vector<std::string> names_;
    std::vector<std::string> first_use_;
    std::vector<bool> defined_;
    std::vector<std::vector<Sequence>> rules_;
    std::vector<bool> nullable_;
    std::vector<CharClass> classes_;
    size_t elements_ = 0;
    uint32_t generated_count_ = 0;
};

}  // namespace kiln
