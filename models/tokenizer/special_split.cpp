#include "models/tokenizer/special_split.h"

#include "models/tokenizer/vocab.h"

namespace kiln {
namespace {

// C's isspace in the "C" locale (what llama.cpp strips around special tokens).
bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool any_run_contains(std::string_view text, const std::vector<TextFragment>& fragments, std::string_view needle) {
    for (const TextFragment& f : fragments) {
        if (!f.is_token() && text.substr(f.begin, f.end - f.begin).find(needle) != std::string_view::npos) return true;
    }
    return false;
}

}  // namespace

void split_special_tokens(const Vocab& vocab, std::string_view text, bool parse_special,
                          std::vector<TextFragment>& out, std::vector<TextFragment>& scratch) {
    out.clear();
    if (text.empty()) return;
    out.push_back({-1, 0, static_cast<uint32_t>(text.size())});

    for (int32_t id : vocab.matchable_tokens()) {
        const TokenType type = vocab.type(id);
        if (!parse_special && (type == TokenType::Control || type == TokenType::Unknown)) continue;
        const std::string_view needle = vocab.text(id);
        // Most tokens appear nowhere; only rebuild the list for those that do.
        if (!any_run_contains(text, out, needle)) continue;

        scratch.clear();
        for (const TextFragment& f : out) {
            if (f.is_token()) {
                scratch.push_back(f);
                continue;
            }
            uint32_t pos = f.begin;
            while (pos < f.end) {
                const size_t at = text.substr(0, f.end).find(needle, pos);
                if (at == std::string_view::npos) {
                    scratch.push_back({-1, pos, f.end});
                    break;
                }
                const auto match = static_cast<uint32_t>(at);
                uint32_t left_end = match;
                if (vocab.strips_left(id)) {
                    while (left_end > pos && is_ascii_space(text[left_end - 1])) --left_end;
                }
                if (left_end > pos) scratch.push_back({-1, pos, left_end});
                scratch.push_back({id, 0, 0});
                pos = match + static_cast<uint32_t>(needle.size());
                if (vocab.strips_right(id)) {
                    while (pos < f.end && is_ascii_space(text[pos])) ++pos;
                }
            }
        }
        out.swap(scratch);
    }
}

}  // namespace kiln
