#include "models/grammar/grammar_builder.h"

#include <algorithm>

#include "graph/error_text.h"

namespace kiln {

bool CharClass::matches(uint32_t cp) const {
    bool in = false;
    for (const CodePointRange& r : ranges) {
        if (cp < r.lo) break;  // sorted
        if (cp <= r.hi) {
            in = true;
            break;
        }
    }
    return in != negated;
}

bool CharClass::matches_any(uint32_t lo, uint32_t hi) const {
    if (!negated) {
        for (const CodePointRange& r : ranges)
            if (r.lo <= hi && lo <= r.hi) return true;
        return false;
    }
    // Negated: some point of [lo, hi] lies outside every range. Ranges are sorted and merged.
    uint32_t next = lo;
    for (const CodePointRange& r : ranges) {
        if (r.hi < next) continue;
        if (r.lo > next) return true;
        if (r.hi >= hi) return false;
        next = r.hi + 1;
    }
    return next <= hi;
}

uint32_t GrammarBuilder::rule(std::string_view name, const std::string& where) {
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    const auto id = uint32_t(names_.size());
    ids_.emplace(std::string(name), id);
    names_.emplace_back(name);
    first_use_.push_back(where);
    defined_.push_back(false);
    rules_.emplace_back();
    return id;
}

void GrammarBuilder::define(uint32_t rule, std::vector<Sequence> alternatives, const std::string& where) {
    if (defined_[rule]) fail_(where, "rule " + quoted(names_[rule]) + " is defined twice");
    size_t n = 0;
    for (const Sequence& s : alternatives) n += s.size() + 1;
    count(n, where);
    defined_[rule] = true;
    rules_[rule] = std::move(alternatives);
}

uint32_t GrammarBuilder::generated(std::string_view base, std::vector<Sequence> alternatives) {
    // '#' cannot appear in a written name, so generated names never collide with them.
    const std::string name = std::string(base) + "#" + std::to_string(++generated_count_);
    const uint32_t id = rule(name, "");
    define(id, std::move(alternatives), "");
    return id;
}

Grammar::Element GrammarBuilder::chars(CharClass c) {
    // Sort and merge, so matching can stop early and equal sets compare equal.
    std::sort(c.ranges.begin(), c.ranges.end(), [](auto& a, auto& b) { return a.lo < b.lo; });
    std::vector<CodePointRange> merged;
    for (const CodePointRange& r : c.ranges) {
        if (!merged.empty() && r.lo <= uint64_t(merged.back().hi) + 1) merged.back().hi = std::max(merged.back().hi, r.hi);
        else merged.push_back(r);
    }
    c.ranges = std::move(merged);
    for (size_t i = 0; i < classes_.size(); ++i) {
        const CharClass& k = classes_[i];
        if (k.negated == c.negated && k.ranges.size() == c.ranges.size() &&
            std::equal(k.ranges.begin(), k.ranges.end(), c.ranges.begin(),
                       [](auto& a, auto& b) { return a.lo == b.lo && a.hi == b.hi; }))
            return {Grammar::Kind::Chars, uint32_t(i)};
    }
    classes_.push_back(std::move(c));
    return {Grammar::Kind::Chars, uint32_t(classes_.size() - 1)};
}

void GrammarBuilder::count(size_t elements, const std::string& where) {
    elements_ += elements;
    if (elements_ > Grammar::kMaxElements)
        fail_(where, "the grammar expands to more than " + std::to_string(Grammar::kMaxElements) +
                         " elements (repetition counts too large?)");
}

void GrammarBuilder::repeat(Sequence& seq, size_t start, uint32_t min, int64_t max, std::string_view base,
                            const std::string& where) {
    if (min > Grammar::kMaxRepetition || max > int64_t(Grammar::kMaxRepetition))
        fail_(where, "repetition count above " + std::to_string(Grammar::kMaxRepetition));
    if (max >= 0 && max < int64_t(min)) fail_(where, "repetition {m,n} with n < m");
    Grammar::Element item;
    if (seq.size() - start == 1) {
        item = seq[start];
    } else {
        item = ref(generated(base, {Sequence(seq.begin() + std::ptrdiff_t(start), seq.end())}));
    }
    seq.resize(start);
    count(min, where);
    seq.insert(seq.end(), min, item);
    if (max < 0) {  // item*: star ::= item star | (empty)
        const uint32_t star = rule(std::string(base) + "#" + std::to_string(++generated_count_), "");
        define(star, {{item, ref(star)}, {}}, where);
        seq.push_back(ref(star));
    } else if (max > int64_t(min)) {  // up to k more: opt_k ::= item opt_(k-1) | (empty)
        uint32_t opt = generated(base, {{item}, {}});
        for (int64_t k = 2; k <= max - int64_t(min); ++k) opt = generated(base, {{item, ref(opt)}, {}});
        seq.push_back(ref(opt));
    }
}

void GrammarBuilder::compute_nullable() {
    nullable_.assign(rules_.size(), false);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t r = 0; r < rules_.size(); ++r) {
            if (nullable_[r]) continue;
            for (const Sequence& alt : rules_[r]) {
                const bool all = std::all_of(alt.begin(), alt.end(), [&](const Grammar::Element& e) {
                    return e.kind == Grammar::Kind::Rule && nullable_[e.arg];
                });
                if (all) {
                    nullable_[r] = changed = true;
                    break;
                }
            }
        }
    }
}

// A rule reachable from itself without consuming a character would make the matcher expand
// forever: find such a cycle over "may start with" edges and name it.
void GrammarBuilder::check_left_recursion() {
    const size_t n = rules_.size();
    std::vector<std::vector<uint32_t>> starts(n);
    for (size_t r = 0; r < n; ++r)
        for (const Sequence& alt : rules_[r])
            for (const Grammar::Element& e : alt) {
                if (e.kind != Grammar::Kind::Rule) break;
                starts[r].push_back(e.arg);
                if (!nullable(e.arg)) break;
            }
    std::vector<uint8_t> state(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<uint32_t> path;
    std::function<void(uint32_t)> visit = [&](uint32_t r) {
        state[r] = 1;
        path.push_back(r);
        for (uint32_t s : starts[r]) {
            if (state[s] == 1) {
                // Generated rules show as NAME#N.
                auto from = std::find(path.begin(), path.end(), s);
                std::string cycle;
                for (auto it = from; it != path.end(); ++it) cycle += names_[*it] + " -> ";
                cycle += names_[s];
                fail_(first_use_[s], "rule " + quoted(names_[s]) + " is left-recursive (" + cycle + ")");
            }
            if (state[s] == 0) visit(s);
        }
        path.pop_back();
        state[r] = 2;
    };
    for (uint32_t r = 0; r < n; ++r)
        if (state[r] == 0) visit(r);
}

Grammar GrammarBuilder::finish() {
    const auto root = ids_.find(std::string_view("root"));
    if (root == ids_.end() || !defined_[root->second]) fail_("", "the grammar has no 'root' rule");
    for (size_t r = 0; r < names_.size(); ++r)
        if (!defined_[r]) fail_(first_use_[r], "rule " + quoted(names_[r]) + " is used but not defined");
    compute_nullable();
    check_left_recursion();

    Grammar g;
    g.root_ = root->second;
    g.names_ = names_;
    g.classes_ = std::move(classes_);
    g.alternatives_.resize(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r)
        for (const Sequence& alt : rules_[r]) {
            g.alternatives_[r].push_back(uint32_t(g.elements_.size()));
            g.elements_.insert(g.elements_.end(), alt.begin(), alt.end());
            g.elements_.push_back({Grammar::Kind::End, 0});
        }
    return g;
}

}  // namespace kiln
