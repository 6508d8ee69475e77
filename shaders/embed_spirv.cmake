# Turns one SPIR-V binary into a C++ source defining its words as a uint32_t array.
# Run in script mode: cmake -DNAME=add -DINPUT=add.spv -DOUTPUT=add.spv.cpp -P embed_spirv.cmake
# NAME is the shader's lookup name; it becomes the accessor kiln::embedded_spirv::<NAME>().
foreach(var NAME INPUT OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_spirv.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR remainder "${hex_length} % 8")
# 03022307 is the SPIR-V magic number 0x07230203 as little-endian bytes.
if(hex_length EQUAL 0 OR NOT remainder EQUAL 0 OR NOT hex MATCHES "^03022307")
  message(FATAL_ERROR "embed_spirv.cmake: ${INPUT} is not a little-endian SPIR-V binary")
endif()

# Eight hex digits are one little-endian word: reverse the byte order to write it as a literal.
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u, " words "${hex}")
# CMake regexes have no {n} repetition: spell out eight words to break lines after each eight.
string(REPEAT "0x........u, " 8 eight_words)
string(REGEX REPLACE "(${eight_words})" "\\1\n    " words "${words}")
string(REGEX REPLACE " +\n" "\n" words "${words}")
string(STRIP "${words}" words)

file(WRITE "${OUTPUT}" "// Generated from ${NAME}.spv by shaders/embed_spirv.cmake; do not edit.
#include <cstdint>
#include <span>

namespace kiln::embedded_spirv {

std::span<const std::uint32_t> ${NAME}();

std::span<const std::uint32_t> ${NAME}() {
    static constexpr std::uint32_t words[] = {
    ${words}
    };
    return words;
}

}  // namespace kiln::embedded_spirv
")
