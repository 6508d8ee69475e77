#include "apps/chat_interrupt.h"

#include <termios.h>
#include <unistd.h>

#include <csignal>

namespace kiln {
namespace {

// A signal handler can reach only globals. Lock-free atomics are safe to use there.
std::atomic<bool> g_replying{false};
std::atomic<bool> g_stop_reply{false};
std::atomic<bool> g_have_terminal{false};
termios g_terminal{};  // written before the handler is installed, then only read
struct sigaction g_previous{};

[[noreturn]] void quit(int status) {
    if (g_have_terminal.load()) tcsetattr(STDIN_FILENO, TCSANOW, &g_terminal);
    const char newline = '\n';  // leave the shell's prompt on a line of its own
    ssize_t ignored = write(STDOUT_FILENO, &newline, 1);
    (void)ignored;
    _exit(status);
}

void on_sigint(int) {
    if (!g_replying.load()) quit(0);
    if (g_stop_reply.exchange(true)) quit(130);  // the second Ctrl-C before the reply ended
}

static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs lock-free atomics");

}  // namespace

ChatInterrupt::ChatInterrupt() {
    g_have_terminal.store(isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &g_terminal) == 0);
    g_replying.store(false);
    g_stop_reply.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a write to the terminal interrupted mid-reply carries on
    sigaction(SIGINT, &sa, &g_previous);
}

ChatInterrupt::~ChatInterrupt() {
    sigaction(SIGINT, &g_previous, nullptr);
    g_have_terminal.store(false);
}

ChatInterrupt::Reply::Reply() {
    g_stop_reply.store(false);
    g_replying.store(true);
}

ChatInterrupt::Reply::~Reply() {
    g_replying.store(false);
    g_stop_reply.store(false);
}

const std::atomic<bool>& ChatInterrupt::Reply::cancel() const { return g_stop_reply; }

}  // namespace kiln
