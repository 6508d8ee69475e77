#include "models/grammar/grammar_matcher.h"

#include <algorithm>
#include <utility>

namespace kiln {
namespace {

void clear(GrammarState& s) {
    s.positions.clear();
    s.ends.clear();
    s.partial = 0;
    s.partial_left = 0;
    s.partial_length = 0;
}

// The smallest code point each UTF-8 length may encode: below it is an overlong form, which
// decoders (TokenTextStream among them) turn into U+FFFD, so the grammar must not read it as
// the character it spells.
uint32_t smallest_of_length(uint8_t length) { return length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000; }

}  // namespace

void GrammarMatcher::start(GrammarState& out) {
    clear(out);
    for (uint32_t a : g_.alternatives(g_.root())) {
        stack_.assign(1, a);
        expand(out);
    }
}

// Adds stack_ to out unless an equal stack is there (two readings that converge are one).
void GrammarMatcher::add_stack(GrammarState& out) {
    if (out.ends.size() >= kMaxStacks) return;  // refused as too ambiguous: see kMaxStacks
    uint32_t begin = 0;
    for (uint32_t end : out.ends) {
        if (end - begin == stack_.size() &&
            std::equal(stack_.begin(), stack_.end(), out.positions.begin() + begin))
            return;
        begin = end;
    }
    out.positions.insert(out.positions.end(), stack_.begin(), stack_.end());
    out.ends.push_back(uint32_t(out.positions.size()));
}

// Follows rule references and finished alternatives from the top of stack_ until each path
// waits for a character (or the stack is empty); stack_ is left as it was found.
void GrammarMatcher::expand(GrammarState& out) {
    if (stack_.empty()) {
        add_stack(out);
        return;
    }
    if (stack_.size() > kMaxDepth) return;  // nesting this deep is refused
    const uint32_t p = stack_.back();
    const Grammar::Element& e = g_.at(p);
    switch (e.kind) {
        case Grammar::Kind::Chars:
            add_stack(out);
            return;
        case Grammar::Kind::End:
            stack_.pop_back();
            expand(out);
            stack_.push_back(p);
            return;
        case Grammar::Kind::Rule: {
            // Continue after the reference once the rule is done; a reference in last place
            // leaves nothing to continue, so its frame goes (right recursion stays flat).
            const bool last = g_.at(p + 1).kind == Grammar::Kind::End;
            if (last) stack_.pop_back();
            else stack_.back() = p + 1;
            for (uint32_t a : g_.alternatives(e.arg)) {
                stack_.push_back(a);
                expand(out);
                stack_.pop_back();
            }
            if (last) stack_.push_back(p);
            else stack_.back() = p;
            return;
        }
    }
}

bool GrammarMatcher::advance_code_point(const GrammarState& in, uint32_t cp, GrammarState& out) {
    clear(out);
    uint32_t begin = 0;
    for (uint32_t end : in.ends) {
        if (end > begin) {
            const uint32_t top = in.positions[end - 1];
            const Grammar::Element& e = g_.at(top);
            if (e.kind == Grammar::Kind::Chars && g_.char_class(e.arg).matches(cp)) {
                stack_.assign(in.positions.begin() + begin, in.positions.begin() + end);
                stack_.back() = top + 1;
                expand(out);
            }
        }
        begin = end;
    }
    return !out.dead();
}

bool GrammarMatcher::could_take(const GrammarState& in, uint32_t lo, uint32_t hi) const {
    uint32_t begin = 0;
    for (uint32_t end : in.ends) {
        if (end > begin) {
            const Grammar::Element& e = g_.at(in.positions[end - 1]);
            if (e.kind == Grammar::Kind::Chars && g_.char_class(e.arg).matches_any(lo, hi)) return true;
        }
        begin = end;
    }
    return false;
}

bool GrammarMatcher::advance(const GrammarState& in, uint8_t b, GrammarState& out) {
    uint32_t cp;
    uint8_t left, length;
    if (in.partial_left > 0) {
        if ((b & 0xC0) != 0x80) {
            clear(out);
            return false;
        }
        cp = (in.partial << 6) | (b & 0x3Fu);
        left = uint8_t(in.partial_left - 1);
        length = in.partial_length;
    } else if (b < 0x80) {
        return advance_code_point(in, b, out);
    } else if (b >= 0xC2 && b <= 0xDF) {
        cp = b & 0x1Fu;
        left = 1;
        length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        cp = b & 0x0Fu;
        left = 2;
        length = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
        cp = b & 0x07u;
        left = 3;
        length = 4;
    } else {
        clear(out);
        return false;  // a continuation byte with nothing to continue, or never valid UTF-8
    }
    if (left == 0) {
        const bool valid = cp >= smallest_of_length(length) && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        if (valid) return advance_code_point(in, cp, out);
        clear(out);
        return false;
    }
    // Unfinished: keep the stacks while some valid character starting with these bytes could
    // match.
    const uint32_t lo = std::max(cp << (6 * left), smallest_of_length(length));
    const uint32_t hi = std::min((cp << (6 * left)) | ((1u << (6 * left)) - 1), 0x10FFFFu);
    // Surrogates (U+D800..U+DFFF) are not characters either: look at what lies either side.
    const bool below = lo < 0xD800 && could_take(in, lo, std::min(hi, 0xD7FFu));
    const bool above = hi > 0xDFFF && could_take(in, std::max(lo, 0xE000u), hi);
    if (lo > hi || !(below || above)) {
        clear(out);
        return false;
    }
    out.positions = in.positions;
    out.ends = in.ends;
    out.partial = cp;
    out.partial_left = left;
    out.partial_length = length;
    return true;
}

bool GrammarMatcher::advance(GrammarState& state, std::string_view text, GrammarState& scratch) {
    for (char c : text) {
        if (!advance(state, uint8_t(c), scratch)) {
            std::swap(state, scratch);
            return false;
        }
        std::swap(state, scratch);
    }
    return true;
}

bool GrammarMatcher::can_end(const GrammarState& s) {
    if (s.partial_left != 0) return false;
    uint32_t begin = 0;
    for (uint32_t end : s.ends) {
        if (end == begin) return true;
        begin = end;
    }
    return false;
}

bool GrammarMatcher::must_end(const GrammarState& s) const {
    if (s.dead() || s.partial_left != 0) return false;
    uint32_t begin = 0;
    for (uint32_t end : s.ends) {
        if (end != begin) return false;
        begin = end;
    }
    return true;
}

}  // namespace kiln
