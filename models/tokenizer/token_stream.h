#pragma once
// Turns token ids, fed one at a time, into text that is always whole UTF-8: a character split
// over several tokens (SentencePiece `<0xF0><0x9F><0xA6><0x99>`) comes out once its last byte
// arrives. Bytes that can never form a character become U+FFFD; so does an unfinished character
// still held at finish(). Leading-space and special-token rules are Tokenizer::decode's.
//
//   TokenTextStream stream(tok, {.strip_leading_space = false});  // continuing a prompt
//   for (int32_t id : generated) std::cout << stream.push(id);
//   std::cout << stream.finish();
#include <cstdint>
#include <string>
#include <string_view>

#include "models/tokenizer/tokenizer.h"

namespace kiln {

class TokenTextStream {
public:
    // `tokenizer` must outlive the stream.
    explicit TokenTextStream(const Tokenizer& tokenizer, DecodeOptions options = {});

    // Text completed by `id`; the view is valid until the next call. With remove_special, a
    // leading BOS and every EOS are dropped (a stream cannot know which EOS is last).
    std::string_view push(int32_t id);
    // What is still held, as U+FFFD; then the stream starts over as new.
    std::string_view finish();
    // Forgets held bytes and starts over as new.
    void reset();

private:
    void start_over();
    // Moves the whole characters at the front of held_ to ready_; at_end: everything, with
    // U+FFFD for an unfinished character.
    void take_complete(bool at_end);

    const Tokenizer* tokenizer_;
    DecodeOptions options_;
    bool first_ = true;        // no token pushed since the start
    bool strip_first_ = true;  // the first token's leading space is dropped
    std::string held_;   // bytes not yet returned
    std::string ready_;  // what the last call returns
};

}  // namespace kiln
