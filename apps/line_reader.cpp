#include "apps/line_reader.h"

#include <iostream>

#if KILN_HAVE_LIBEDIT
#include <histedit.h>

#include <clocale>
#include <cstdio>
#endif

namespace kiln {

#if KILN_HAVE_LIBEDIT
struct LineReader::Editor {
    EditLine* el = nullptr;
    History* history = nullptr;
    HistEvent event{};
    std::string prompt;
    std::string old_locale;

    explicit Editor(std::string p) : prompt(std::move(p)) {
        // libedit reads and shows UTF-8 only under a UTF-8 character type (else octal escapes).
        if (const char* l = std::setlocale(LC_CTYPE, nullptr)) old_locale = l;
        std::setlocale(LC_CTYPE, "");
        el = el_init("kiln", stdin, stdout, stderr);
        history = history_init();
        ::history(history, &event, H_SETSIZE, 1000);
        ::history(history, &event, H_SETUNIQUE, 1);  // the same line twice in a row is kept once
        el_set(el, EL_CLIENTDATA, this);
        el_set(el, EL_PROMPT, &Editor::show_prompt);
        el_set(el, EL_EDITOR, "emacs");
        el_set(el, EL_HIST, ::history, history);
        el_source(el, nullptr);  // the user's ~/.editrc, if any
    }
    ~Editor() {
        el_end(el);
        history_end(history);
        if (!old_locale.empty()) std::setlocale(LC_CTYPE, old_locale.c_str());
    }
    Editor(const Editor&) = delete;
    Editor& operator=(const Editor&) = delete;

    static char* show_prompt(EditLine* el) {
        void* self = nullptr;
        el_get(el, EL_CLIENTDATA, &self);
        return const_cast<char*>(static_cast<Editor*>(self)->prompt.c_str());
    }

    std::optional<std::string> read() {
        int count = 0;
        const char* got = el_gets(el, &count);
        if (!got || count <= 0) return std::nullopt;
        std::string line(got, static_cast<size_t>(count));
        if (!line.empty() && line.back() == '\n') line.pop_back();
        if (!line.empty()) ::history(history, &event, H_ENTER, line.c_str());
        return line;
    }
};
#else
struct LineReader::Editor {};
#endif

LineReader::LineReader(bool terminal, std::string prompt) : terminal_(terminal), prompt_(std::move(prompt)) {
#if KILN_HAVE_LIBEDIT
    if (terminal_) editor_ = std::make_unique<Editor>(prompt_);
#endif
}

LineReader::~LineReader() = default;

bool LineReader::has_line_editing() { return KILN_HAVE_LIBEDIT != 0; }

std::optional<std::string> LineReader::read(std::ostream& out) {
#if KILN_HAVE_LIBEDIT
    if (editor_) {
        out.flush();  // what the last reply printed, before libedit writes the prompt
        return editor_->read();
    }
#endif
    if (terminal_) out << prompt_ << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
}

}  // namespace kiln
