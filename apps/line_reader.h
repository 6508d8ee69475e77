#pragma once
// The lines `kiln chat` reads. At a terminal, through libedit when kiln is built with it
// (KILN_HAVE_LIBEDIT): the usual editing keys (emacs bindings, ~/.editrc) and this session's
// history on the arrow keys. Otherwise (pipes, as tests use) plain std::getline on std::cin.
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace kiln {

class LineReader {
public:
    // `terminal`: stdin is a terminal, so `prompt` is shown and lines may be edited.
    LineReader(bool terminal, std::string prompt);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // The next line, without its newline; nullopt at the end of input. Without libedit the
    // prompt goes to `out` (at a terminal only).
    std::optional<std::string> read(std::ostream& out);

    static bool has_line_editing();  // built with libedit

private:
    struct Editor;  // libedit's state, when in use
    bool terminal_;
    std::string prompt_;
    std::unique_ptr<Editor> editor_;
};

}  // namespace kiln
