#pragma once
// Reading a whole file named on the command line (a prompt, a chat template), with an error
// that names the file and the flag when it is missing, not a regular file, or unreadable.
#include <string>

namespace kiln {

// Throws kiln::Error "FILE (FLAG): why" for a missing file, a directory or another
// non-regular file, or one that cannot be read.
std::string read_text_file(const std::string& path, const std::string& flag);

}  // namespace kiln
