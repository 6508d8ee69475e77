#include "models/tokenizer/byte_level.h"

#include <array>

namespace kiln {
namespace {

// GPT-2's bytes_to_unicode: bytes that are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ')
// stand for themselves; the other 68 take U+0100, U+0101, ... in byte order.
constexpr std::array<uint16_t, 256> make_byte_to_code_point() {
    std::array<uint16_t, 256> map{};
    uint16_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        map[b] = printable ? static_cast<uint16_t>(b) : next++;
    }
    return map;
}
constexpr std::array<uint16_t, 256> kByteToCodePoint = make_byte_to_code_point();
constexpr uint32_t kMappedLimit = 256 + 68;  // every mapped code point is below this

// Inverse of kByteToCodePoint: code point -> byte + 1 (0: not a mapped character).
constexpr std::array<uint16_t, kMappedLimit> make_code_point_to_byte() {
    std::array<uint16_t, kMappedLimit> inverse{};
    for (int b = 0; b < 256; ++b) inverse[kByteToCodePoint[b]] = static_cast<uint16_t>(b + 1);
    return inverse;
}
constexpr std::array<uint16_t, kMappedLimit> kCodePointToByte = make_code_point_to_byte();

struct ByteChars {
    std::array<char, 2 * 256> bytes{};
    std::array<uint8_t, 256> size{};
    ByteChars() {
        for (int b = 0; b < 256; ++b) {
            std::string s;
            append_utf8(s, kByteToCodePoint[b]);
            for (size_t i = 0; i < s.size(); ++i) bytes[2 * b + i] = s[i];
            size[b] = static_cast<uint8_t>(s.size());
        }
    }
};

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

void decode_utf8_lenient(std::string_view text, std::vector<uint32_t>& out) {
    out.clear();
    out.reserve(text.size());
    const size_t n = text.size();
    auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    for (size_t i = 0; i < n;) {
        const uint8_t b0 = byte(i);
        size_t len = 0;
        uint32_t cp = 0;
        if (b0 < 0x80) {
            len = 1;
            cp = b0;
        } else if ((b0 & 0xE0) == 0xC0) {
            len = 2;
            cp = b0 & 0x1Fu;
        } else if ((b0 & 0xF0) == 0xE0) {
            len = 3;
            cp = b0 & 0x0Fu;
        } else if ((b0 & 0xF8) == 0xF0) {
            len = 4;
            cp = b0 & 0x07u;
        }
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; ++k) {
            ok = is_continuation(byte(i + k));
            cp = (cp << 6) | (byte(i + k) & 0x3Fu);
        }
        if (!ok) {
            out.push_back(kReplacementChar);
            ++i;
            continue;
        }
        // llama.cpp cannot re-encode these and fails; U+FFFD keeps the text going.
        out.push_back(cp > 0x10FFFF ? kReplacementChar : cp);
        i += len;
    }
}

std::string_view byte_level_char(uint8_t b) {
    static const ByteChars chars;
    return std::string_view(chars.bytes.data() + 2 * b, chars.size[b]);
}

void append_byte_level_decoded(std::string_view text, std::string& out) {
    // Token texts are valid UTF-8 in practice; a stray byte is copied through unchanged.
    for (size_t i = 0; i < text.size();) {
        const auto b0 = static_cast<uint8_t>(text[i]);
        if (b0 < 0x80) {
            const uint16_t mapped = kCodePointToByte[b0];
            out += mapped ? static_cast<char>(mapped - 1) : static_cast<char>(b0);
            ++i;
            continue;
        }
        // Mapped characters above 0x7F are all two-byte sequences (U+00A1..U+0143).
        if ((b0 & 0xE0) == 0xC0 && i + 1 < text.size() && is_continuation(static_cast<uint8_t>(text[i + 1]))) {
            const uint32_t cp = ((b0 & 0x1Fu) << 6) | (static_cast<uint8_t>(text[i + 1]) & 0x3Fu);
            if (cp < kMappedLimit && kCodePointToByte[cp] != 0) {
                out += static_cast<char>(kCodePointToByte[cp] - 1);
                i += 2;
                continue;
            }
        }
        // Not a mapped character: copy the whole UTF-8 sequence.
        size_t len = 1;
        while (i + len < text.size() && is_continuation(static_cast<uint8_t>(text[i + len]))) ++len;
        out.append(text.substr(i, len));
        i += len;
    }
}

}  // namespace kiln
