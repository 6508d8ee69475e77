// The split rules of pre_tokenizer.h. Each matcher answers "how long is the regex's match that
// starts at `pos`" (0: none) with the semantics llama.cpp gives it: its own scanners for the
// GPT-2 / Llama 3 / Qwen2 patterns, std::regex for the rest. Both read \s as Unicode White_Space
// and \p{..} as the general category; std::regex never sees non-ASCII whitespace as anything
// but \s, so a whitespace character is never a letter, digit or listed range here either.
#include <algorithm>
#include <array>
#include <utility>

#include "models/tokenizer/pre_tokenizer.h"
#include "models/tokenizer/unicode_data.h"

namespace kiln {
namespace {

using Range = std::pair<uint32_t, uint32_t>;  // inclusive

// The cased letters DeepSeek-LLM's tokenizer.json spells out as a character class.
constexpr Range kDeepseekLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},       {0xD8, 0xF6},
    {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},     {0x295, 0x2AF},     {0x370, 0x373},
    {0x376, 0x377},     {0x37B, 0x37D},     {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},
    {0x38C, 0x38C},     {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},   {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},   {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},   {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B},   {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},   {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},   {0x2102, 0x2102},   {0x2107, 0x2107},
    {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},
    {0x2128, 0x2128},   {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},   {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},   {0xA680, 0xA69B},   {0xA722, 0xA76F},
    {0xA771, 0xA787},   {0xA78B, 0xA78E},   {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// ASCII and full-width punctuation, curly quotes, ideographic comma / full stop (U+3000, the
// ideographic space, is in the range but is whitespace, so never matches).
constexpr Range kDeepseekPunct[] = {{0x21, 0x2F},     {0x3A, 0x7E},     {0xFF01, 0xFF0F},
                                    {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002}};
// CJK ideographs, U+0800..U+4E00 (most scripts between) and Hangul syllables.
constexpr Range kCjk[] = {{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}};

template <size_t N>
bool in_ranges(const Range (&ranges)[N], uint32_t cp) {
    for (const Range& r : ranges) {
        if (cp >= r.first && cp <= r.second) return true;
    }
    return false;
}

bool is_newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// Lower-cases ASCII only: no other code point lower-cases to the letters of the contractions.
uint32_t ascii_lower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

class Scanner {
public:
    Scanner(std::span<const uint32_t> cps, std::span<const uint8_t> flags, uint32_t end)
        : cps_(cps), flags_(flags), end_(end) {}

    uint32_t match(SplitRule rule, uint32_t pos) const {
        switch (rule) {
            case SplitRule::Gpt2: return gpt2(pos);
            case SplitRule::Llama3: return llama3(pos, 3);
            case SplitRule::Qwen2: return llama3(pos, 1);
            case SplitRule::NewlineChar: return is_newline(cps_[pos]) ? 1 : 0;
            case SplitRule::Digit: return number(pos) ? 1 : 0;
            case SplitRule::Digits: return run(pos, [&](uint32_t i) { return number(i); });
            case SplitRule::ThreeAsciiDigits: return three_ascii_digits(pos);
            case SplitRule::PunctRun: return run(pos, [&](uint32_t i) { return punct_or_listed(i, false); });
            case SplitRule::PunctRunBacktick: return run(pos, [&](uint32_t i) { return punct_or_listed(i, true); });
            case SplitRule::SpaceLetters: return space_then_run(pos, [&](uint32_t i) { return letter(i); });
            case SplitRule::SpacePunct: return space_then_run(pos, [&](uint32_t i) { return punct(i); });
            case SplitRule::CjkRun: return run(pos, [&](uint32_t i) { return listed(kCjk, i); });
            case SplitRule::DeepseekLetters:
                return space_then_run(pos, [&](uint32_t i) { return listed(kDeepseekLetters, i); });
            case SplitRule::DeepseekPunct:
                return space_then_run(pos, [&](uint32_t i) { return listed(kDeepseekPunct, i); });
            case SplitRule::TrailingSpace: break;  // handled by apply_split_rule
        }
        return 0;
    }

private:
    // Out-of-piece positions have no class at all (llama.cpp's OUT_OF_RANGE).
    bool inside(uint32_t i) const { return i < end_; }
    bool letter(uint32_t i) const { return inside(i) && is_letter(flags_[i]); }
    bool number(uint32_t i) const { return inside(i) && is_number(flags_[i]); }
    bool space(uint32_t i) const { return inside(i) && is_white_space(flags_[i]); }
    bool punct(uint32_t i) const { return inside(i) && !space(i) && is_punctuation(flags_[i]); }
    // [^\s\p{L}\p{N}]
    bool other(uint32_t i) const { return inside(i) && !space(i) && !letter(i) && !number(i); }
    bool newline(uint32_t i) const { return inside(i) && is_newline(cps_[i]); }
    template <size_t N>
    bool listed(const Range (&ranges)[N], uint32_t i) const {
        return inside(i) && !space(i) && in_ranges(ranges, cps_[i]);
    }
    bool punct_or_listed(uint32_t i, bool backtick) const {
        if (!inside(i)) return false;
        const uint32_t cp = cps_[i];
        if (cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' || cp == '^' || cp == '~' || cp == '|') return true;
        if (backtick && cp == '`') return true;
        return punct(i);
    }

    template <typename Pred>
    uint32_t run(uint32_t pos, Pred pred) const {
        uint32_t i = pos;
        while (pred(i)) ++i;
        return i - pos;
    }
    // \s?X+ : greedy, so a leading whitespace is taken when X follows it.
    template <typename Pred>
    uint32_t space_then_run(uint32_t pos, Pred pred) const {
        if (space(pos) && pred(pos + 1)) return 1 + run(pos + 1, pred);
        return run(pos, pred);
    }
    uint32_t three_ascii_digits(uint32_t pos) const {
        for (uint32_t i = pos; i < pos + 3; ++i) {
            if (!inside(i) || cps_[i] < '0' || cps_[i] > '9') return 0;
        }
        return 3;
    }

    // 's 't 're 've 'm 'll 'd; `fold` makes the letters case-insensitive.
    uint32_t contraction(uint32_t pos, bool fold) const {
        if (cps_[pos] != '\'' || !inside(pos + 1)) return 0;
        auto at = [&](uint32_t i) { return fold ? ascii_lower(cps_[i]) : cps_[i]; };
        const uint32_t a = at(pos + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if (!inside(pos + 2)) return 0;
        const uint32_t b = at(pos + 2);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
        return 0;
    }

    // \s+(?!\S)|\s+ : a whitespace run followed by more text leaves its last character to
    // start the next word (" word"); at the end of the piece it is taken whole.
    uint32_t whitespace(uint32_t pos) const {
        const uint32_t n = run(pos, [&](uint32_t i) { return space(i); });
        if (n > 1 && inside(pos + n)) return n - 1;
        return std::max<uint32_t>(n, 1);  // a character nothing matched stands alone
    }

    uint32_t gpt2(uint32_t pos) const {
        if (const uint32_t n = contraction(pos, false)) return n;
        // " ?X+" for letters, digits and other symbols: an optional literal space, then the run.
        const uint32_t at = cps_[pos] == ' ' ? pos + 1 : pos;
        if (letter(at)) return at - pos + run(at, [&](uint32_t i) { return letter(i); });
        if (number(at)) return at - pos + run(at, [&](uint32_t i) { return number(i); });
        if (other(at)) return at - pos + run(at, [&](uint32_t i) { return other(i); });
        return whitespace(pos);
    }

    uint32_t llama3(uint32_t pos, uint32_t max_digits) const {
        if (const uint32_t n = contraction(pos, true)) return n;
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!newline(pos) && !number(pos) && (letter(pos) || letter(pos + 1))) {
            return 1 + run(pos + 1, [&](uint32_t i) { return letter(i); });
        }
        // \p{N}{1,3} (Qwen2: \p{N})
        if (number(pos)) return std::min(max_digits, run(pos, [&](uint32_t i) { return number(i); }));
        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        const uint32_t at = cps_[pos] == ' ' ? pos + 1 : pos;
        if (other(at)) {
            uint32_t i = at + run(at, [&](uint32_t k) { return other(k); });
            return i - pos + run(i, [&](uint32_t k) { return newline(k); });
        }
        // \s*[\r\n]+ : whitespace up to and including the run's last newline.
        const uint32_t n = run(pos, [&](uint32_t i) { return space(i); });
        for (uint32_t i = pos + n; i > pos; --i) {
            if (is_newline(cps_[i - 1])) return i - pos;
        }
        return whitespace(pos);
    }

    std::span<const uint32_t> cps_;
    std::span<const uint8_t> flags_;
    uint32_t end_;
};

// Rules whose alternatives cover every character, so each match follows the previous one.
bool tiles(SplitRule rule) { return rule == SplitRule::Gpt2 || rule == SplitRule::Llama3 || rule == SplitRule::Qwen2; }

}  // namespace

void apply_split_rule(SplitRule rule, std::span<const uint32_t> cps, std::span<const uint8_t> flags, uint32_t begin,
                      uint32_t end, std::vector<uint32_t>& ends) {
    if (begin >= end) return;
    if (rule == SplitRule::TrailingSpace) {
        // The leftmost match of \s+$ is the piece's whole trailing whitespace run.
        uint32_t start = end;
        while (start > begin && is_white_space(flags[start - 1])) --start;
        if (start > begin && start < end) ends.push_back(start);
        ends.push_back(end);
        return;
    }
    const Scanner scan(cps, flags, end);
    if (tiles(rule)) {
        for (uint32_t pos = begin; pos < end;) {
            pos += scan.match(rule, pos);
            ends.push_back(pos);
        }
        return;
    }
    // Like std::regex_iterator: the leftmost match, then search on after it; the text between
    // matches stays a piece of its own.
    uint32_t gap = begin;
    for (uint32_t pos = begin; pos < end;) {
        const uint32_t n = scan.match(rule, pos);
        if (n == 0) {
            ++pos;
            continue;
        }
        if (pos > gap) ends.push_back(pos);
        pos += n;
        ends.push_back(pos);
        gap = pos;
    }
    if (gap < end) ends.push_back(end);
}

}  // namespace kiln
