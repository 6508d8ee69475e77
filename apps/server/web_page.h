#pragma once
// The chat page served at / : apps/server/web/index.html, embedded at build time
// (embed_file.cmake writes it into a C++ raw string).
#include <string_view>

namespace kiln::server {

std::string_view web_page();

}  // namespace kiln::server
