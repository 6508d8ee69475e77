#include "models/tokenizer/token_stream.h"

namespace kiln {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8Run { Complete, Unfinished, Invalid };

// Classifies the bytes at s[i]: a whole character (`length` bytes), the valid start of one cut
// off by the end of `s`, or `length` bytes that can never be one (the longest invalid start, so
// "\xE2\x82" then "A" yields one U+FFFD, as the Unicode standard recommends).
Utf8Run classify(std::string_view s, size_t i, size_t& length) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    length = 1;
    if (b0 < 0x80) return Utf8Run::Complete;
    size_t n = 0;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (no overlongs, surrogates)
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return Utf8Run::Invalid;
    }
    for (size_t k = 1; k < n; ++k) {
        if (i + k >= s.size()) {
            length = k;
            return Utf8Run::Unfinished;
        }
        const auto b = static_cast<uint8_t>(s[i + k]);
        const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) {
            length = k;
            return Utf8Run::Invalid;
        }
    }
    length = n;
    return Utf8Run::Complete;
}

}  // namespace

TokenTextStream::TokenTextStream(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(&tokenizer), options_(options) {
    reset();
}

void TokenTextStream::reset() {
    held_.clear();
    ready_.clear();
    start_over();
}

void TokenTextStream::start_over() {
    first_ = true;
    strip_first_ = options_.strip_leading_space && tokenizer_->vocab().add_space_prefix();
}

std::string_view TokenTextStream::push(int32_t id) {
    ready_.clear();
    const Vocab& vocab = tokenizer_->vocab();
    if (options_.remove_special) {
        if (first_ && vocab.add_bos() && id == vocab.special().bos) {
            first_ = false;
            strip_first_ = false;  // as Tokenizer::decode: a dropped BOS keeps the next space
            return ready_;
        }
        if (vocab.add_eos() && id == vocab.special().eos) return ready_;
    }
    const size_t start = held_.size();
    tokenizer_->append_piece(id, options_.render_special, held_);
    if (first_ && strip_first_ && held_.size() > start && held_[start] == ' ') held_.erase(start, 1);
    first_ = false;
    take_complete(false);
    return ready_;
}

std::string_view TokenTextStream::finish() {
    ready_.clear();
    take_complete(true);  // empties held_
    start_over();
    return ready_;
}

void TokenTextStream::take_complete(bool at_end) {
    size_t i = 0;
    while (i < held_.size()) {
        size_t length = 0;
        const Utf8Run run = classify(held_, i, length);
        if (run == Utf8Run::Unfinished && !at_end) break;
        if (run == Utf8Run::Complete) ready_.append(held_, i, length);
        else ready_ += kReplacement;
        i += length;
    }
    held_.erase(0, i);
}

}  // namespace kiln
