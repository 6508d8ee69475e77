#pragma once
// Unicode classes of code points, as byte-level BPE pre-tokenizers ask about them: the general
// category group (\p{L}, \p{N}, \p{P}, ...) and White_Space (\s). The table is generated from
// Python's unicodedata by gen_unicode_data.py into unicode_data.cpp.
#include <cstdint>

namespace kiln {

enum class UnicodeClass : uint8_t {
    Unassigned = 0,   // Cn (and anything past U+10FFFF)
    Number = 1,       // Nd Nl No
    Letter = 2,       // Lu Ll Lt Lm Lo
    Separator = 3,    // Zs Zl Zp
    Mark = 4,         // Mn Mc Me
    Punctuation = 5,  // Pc Pd Ps Pe Pi Pf Po
    Symbol = 6,       // Sm Sc Sk So
    Control = 7,      // Cc Cf Co Cs
};

// Class in bits 0..2, kWhiteSpaceFlag for Unicode's White_Space property.
constexpr uint8_t kUnicodeClassMask = 7;
constexpr uint8_t kWhiteSpaceFlag = 8;

// Flags of `cp`: O(1) below U+10000, a binary search above.
uint8_t unicode_flags(uint32_t cp);

inline UnicodeClass unicode_class(uint8_t flags) { return static_cast<UnicodeClass>(flags & kUnicodeClassMask); }
inline bool is_letter(uint8_t flags) { return unicode_class(flags) == UnicodeClass::Letter; }
inline bool is_number(uint8_t flags) { return unicode_class(flags) == UnicodeClass::Number; }
inline bool is_punctuation(uint8_t flags) { return unicode_class(flags) == UnicodeClass::Punctuation; }
inline bool is_white_space(uint8_t flags) { return (flags & kWhiteSpaceFlag) != 0; }

}  // namespace kiln
