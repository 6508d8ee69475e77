#pragma once
// The real `kiln` binary as a child process that a test talks to while it runs: on pipes (its
// stderr to a file), or on a pseudo-terminal, as a person at a terminal runs it. For what only
// shows with a live process: Ctrl-C (SIGINT) mid-reply, line editing.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::testing {

class KilnProcess {
public:
    enum class Io { Pipes, Terminal };

    KilnProcess(const std::vector<std::string>& args, Io io) {
        err_path_ = std::filesystem::temp_directory_path() /
                    ("kiln-process-" + std::to_string(::getpid()) + "-" + std::to_string(++count()) + ".err");
        int in[2] = {-1, -1}, out[2] = {-1, -1};
        int slave = -1;
        if (io == Io::Pipes) {
            if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
            input_ = in[1];
            output_ = out[0];
        } else {
            master_ = posix_openpt(O_RDWR | O_NOCTTY);
            if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) throw std::runtime_error("no pty");
            slave = ::open(ptsname(master_), O_RDWR | O_NOCTTY);
            if (slave < 0) throw std::runtime_error("cannot open the pty's slave");
            input_ = output_ = master_;
        }
        std::vector<std::string> all = {KILN_BINARY};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (io == Io::Pipes) {
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(err, 2);
            } else {
                setsid();  // a session of its own, the pty its controlling terminal
                ioctl(slave, TIOCSCTTY, 0);
                dup2(slave, 0);
                dup2(slave, 1);
                dup2(err, 2);  // timings stay out of what the terminal shows
            }
            for (int fd = 3; fd < 1024; ++fd) ::close(fd);
            execv(KILN_BINARY, argv.data());
            _exit(127);
        }
        if (io == Io::Pipes) {
            ::close(in[0]);
            ::close(out[1]);
        } else {
            ::close(slave);
        }
    }

    ~KilnProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (master_ >= 0) {
            ::close(master_);
        } else {
            if (input_ >= 0) ::close(input_);
            if (output_ >= 0) ::close(output_);
        }
        std::error_code ec;
        std::filesystem::remove(err_path_, ec);
    }
    KilnProcess(const KilnProcess&) = delete;
    KilnProcess& operator=(const KilnProcess&) = delete;

    void write(const std::string& text) {
        if (::write(input_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            throw std::runtime_error("write to kiln failed");
        }
    }
    void close_input() {  // pipes only: end of input
        ::close(input_);
        input_ = -1;
    }
    void signal(int sig) { kill(pid_, sig); }

    // Reads what the process prints until `needle` appears at or after `from` in output(), or
    // `seconds` pass: whether it appeared.
    bool wait_for(const std::string& needle, double seconds, size_t from = 0) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (text_.find(needle, from) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !read_some(left)) return text_.find(needle, from) != std::string::npos;
        }
        return true;
    }
    // Reads until at least `n` bytes have been printed in all.
    bool wait_for_bytes(size_t n, double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (text_.size() < n) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !read_some(left)) return false;
        }
        return true;
    }
    // Waits for the process to end: its exit status (128 + signal when killed), or -1 when it
    // was still running after `seconds` (it is then killed).
    int wait_exit(double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < end) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                while (read_some(std::chrono::milliseconds(50))) {
                }
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            read_some(std::chrono::milliseconds(20));
        }
        return -1;
    }

    // Terminal only: waits until the line editor has the terminal (canonical mode off), which
    // happens just after it prints the prompt; keys typed before then reach the terminal's own
    // line discipline instead, as they would not for a person.
    bool wait_for_editor(double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        termios t{};
        while (tcgetattr(master_, &t) == 0 && (t.c_lflag & ICANON) != 0) {
            if (std::chrono::steady_clock::now() >= end) return false;
            read_some(std::chrono::milliseconds(5));
        }
        return true;
    }

    const std::string& output() const { return text_; }  // stdout (on a terminal, all it shows)
    std::string error_output() const {
        std::ifstream f(err_path_);
        return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    int terminal() const { return master_; }  // the pty's master, or -1

private:
    static int& count() {
        static int n = 0;
        return n;
    }
    bool read_some(std::chrono::milliseconds wait) {
        if (output_ < 0) return false;
        pollfd p{output_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::read(output_, buf, sizeof(buf));
        if (n <= 0) return false;
        text_.append(buf, static_cast<size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int input_ = -1, output_ = -1, master_ = -1;
    std::string text_;
    std::filesystem::path err_path_;
};

}  // namespace kiln::testing
