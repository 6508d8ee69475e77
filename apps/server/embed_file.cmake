# Writes a text file into a C++ source as a raw string returned by a function:
#   cmake -DINPUT=page.html -DOUTPUT=page.cpp -DFUNCTION=web_page -DHEADER=apps/server/web_page.h -P embed_file.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")kiln_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )kiln_embed\"")
endif()
file(WRITE "${OUTPUT}.partial"
  "// Generated from ${INPUT} by embed_file.cmake; do not edit.\n"
  "#include \"${HEADER}\"\n\nnamespace kiln::server {\n\n"
  "std::string_view ${FUNCTION}() {\n    static constexpr std::string_view text = R\"kiln_embed(${content})kiln_embed\";\n"
  "    return text;\n}\n\n}  // namespace kiln::server\n")
file(RENAME "${OUTPUT}.partial" "${OUTPUT}")
