#pragma once
// Byte-level BPE's text plumbing: lenient UTF-8 decoding into code points (as llama.cpp reads
// its input) and GPT-2's byte <-> character mapping, which spells each of the 256 byte values as
// a printable character so token texts never hold raw spaces or control bytes ("Ġ" = space).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/utf8.h"

namespace kiln {

constexpr uint32_t kReplacementChar = 0xFFFD;

// Replaces `out` with the code points of `text`. Like llama.cpp: a lead byte whose continuation
// bytes are missing or malformed counts as one U+FFFD and decoding goes on at the next byte;
// overlong forms and surrogates are decoded as they are. Values past U+10FFFF become U+FFFD.
void decode_utf8_lenient(std::string_view text, std::vector<uint32_t>& out);


// GPT-2's spelling of byte `b` as UTF-8 (one character, 1 or 2 bytes).
std::string_view byte_level_char(uint8_t b);

// Appends the bytes that byte-level text `text` spells. Characters outside the mapping (added
// tokens written in plain text) are copied as they are.
void append_byte_level_decoded(std::string_view text, std::string& out);

}  // namespace kiln
