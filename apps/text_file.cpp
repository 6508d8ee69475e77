#include "apps/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "graph/error.h"

namespace kiln {

std::string read_text_file(const std::string& path, const std::string& flag) {
    const std::string where = path + " (" + flag + ")";
    std::error_code ec;
    // status() follows symbolic links: a link to a regular file is fine.
    const std::filesystem::file_status st = std::filesystem::status(path, ec);
    if (st.type() == std::filesystem::file_type::not_found) throw Error(where + ": no such file");
    if (ec) throw Error(where + ": cannot read it (" + ec.message() + ")");
    if (std::filesystem::is_directory(st)) throw Error(where + ": is a directory, not a file");
    // FIFOs, devices and sockets could block or never end.
    if (!std::filesystem::is_regular_file(st)) throw Error(where + ": not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(where + ": cannot read it (" + std::strerror(errno) + ")");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(where + ": cannot read it");
    return ss.str();
}

}  // namespace kiln
