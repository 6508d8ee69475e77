// Templates written to hurt: a model file is untrusted input and its chat template a program kiln
// runs. Each must end in one kiln::Error line naming the limit it hit, within a few seconds and a
// bounded amount of memory. Every case renders in a forked child with caps on its memory and
// stack and an alarm, so a regression (a stack overflow, an allocation of terabytes) fails the
// test instead of taking the test binary, or the machine, down with it.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include "models/chat/chat_template.h"

namespace kiln {
namespace {

// GCC defines __SANITIZE_*__; clang 14 only answers __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KILN_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KILN_TEST_SANITIZED 1
#endif
#endif
#ifdef KILN_TEST_SANITIZED
constexpr bool kSanitized = true;  // they reserve terabytes of address space: no RLIMIT_AS
#else
constexpr bool kSanitized = false;
#endif

constexpr unsigned kChildTimeoutSeconds = kSanitized ? 120 : 30;
constexpr rlim_t kChildMemoryBytes = rlim_t{2} << 30;
// As a server's worker thread might have; the main thread's stack grows only to this limit.
constexpr rlim_t kChildStackBytes = rlim_t{2} << 20;
// "About a second" on an idle machine; CI machines are shared, and sanitizers run 10-30x slower.
constexpr double kMaxSeconds = kSanitized ? 30.0 : 5.0;

struct Outcome {
    std::string error;   // the kiln::Error message; empty when the template rendered
    std::string output;  // what it rendered (cut at 4 KiB)
    std::string crash;   // how the child died, when it did not report back
    double seconds = 0;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    return os << "error='" << o.error << "' output='" << o.output.substr(0, 200) << "' crash='" << o.crash
              << "' seconds=" << o.seconds;
}

void write_all(int fd, const std::string& s) {
    for (size_t done = 0; done < s.size();) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

// "o" + output, "e" + error, or "c" + why it crashed.
std::string render_report(const std::string& source) {
    try {
        ChatTemplate t = ChatTemplate::parse(source, "bad.jinja");
        return "o" + t.render(jinja::Dict{}).substr(0, 4096);
    } catch (const Error& e) {
        return std::string("e") + e.what();
    } catch (const std::bad_alloc&) {
        return "cout of memory (std::bad_alloc)";
    }
}

struct ThreadJob {
    const std::string* source;
    std::string report;
};

// thread_stack_bytes > 0: renders on a thread with that much stack, else on the main thread.
[[noreturn]] void render_in_child(int fd, const std::string& source, size_t thread_stack_bytes) {
    ::alarm(kChildTimeoutSeconds);
    rlimit stack{kChildStackBytes, kChildStackBytes};
    ::setrlimit(RLIMIT_STACK, &stack);
    if (!kSanitized) {
        rlimit cap{kChildMemoryBytes, kChildMemoryBytes};
        ::setrlimit(RLIMIT_AS, &cap);
    }
    if (thread_stack_bytes == 0) {
        write_all(fd, render_report(source));
        ::_exit(0);
    }
    ThreadJob job{&source, ""};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, thread_stack_bytes);
    pthread_t thread;
    auto run = [](void* arg) -> void* {
        auto* j = static_cast<ThreadJob*>(arg);
        j->report = render_report(*j->source);
        return nullptr;
    };
    if (pthread_create(&thread, &attr, run, &job) != 0) job.report = "cpthread_create failed";
    else pthread_join(thread, nullptr);
    write_all(fd, job.report);
    ::_exit(0);
}

Outcome render_isolated(const std::string& source, size_t thread_stack_bytes = 0) {
    int fds[2];
    if (::pipe(fds) != 0) return {"", "", "pipe failed", 0};
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        render_in_child(fds[1], source, thread_stack_bytes);
    }
    ::close(fds[1]);
    std::string report;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Outcome o;
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (WIFSIGNALED(status)) {
        o.crash = WTERMSIG(status) == SIGALRM ? "timed out" : "killed by signal " + std::to_string(WTERMSIG(status));
    } else if (report.empty()) {
        o.crash = "no report";
    } else if (report[0] == 'e') {
        o.error = report.substr(1);
    } else if (report[0] == 'c') {
        o.crash = report.substr(1);
    } else {
        o.output = report.substr(1);
    }
    return o;
}

// The template failed quickly with one located line that contains `limit`.
#define EXPECT_LIMIT(source, limit)                                                           \
    do {                                                                                      \
        Outcome o_ = render_isolated(source);                                                 \
        EXPECT_TRUE(o_.crash.empty()) << o_;                                                  \
        EXPECT_EQ(o_.error.rfind("bad.jinja:", 0), 0u) << o_;                                 \
        EXPECT_NE(o_.error.find(limit), std::string::npos) << o_;                             \
        EXPECT_EQ(o_.error.find('\n'), std::string::npos) << o_;                              \
        EXPECT_LT(o_.seconds, kMaxSeconds) << o_;                                             \
    } while (0)

// The template rendered `expected` quickly.
#define EXPECT_RENDERS(source, expected)                                                      \
    do {                                                                                      \
        Outcome o_ = render_isolated(source);                                                 \
        EXPECT_TRUE(o_.crash.empty() && o_.error.empty()) << o_;                              \
        EXPECT_EQ(o_.output, expected) << o_;                                                 \
        EXPECT_LT(o_.seconds, kMaxSeconds) << o_;                                             \
    } while (0)

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// x = [x, x], n times: 2^n leaves reachable through only n + 1 lists.
std::string doubled(const std::string& name, int n) {
    return "{% set " + name + " = [0] %}" + repeat("{% set " + name + " = [" + name + ", " + name + "] %}", n);
}

// Case 1: frames, not calls, fill the stack. A macro recursing inside 60 nested loops stays
// under the parser's nesting limit and the call-depth limit, but 64 calls of 60 loops each
// would need far more than an 8 MiB stack.
TEST(ChatHostile, RecursionThroughDeepLoopsHitsTheStackLimit) {
    const std::string loops = repeat("{% for a in [1] %}", 60) + "{{ f() }}" + repeat("{% endfor %}", 60);
    EXPECT_LIMIT("{% macro f() %}" + loops + "{% endmacro %}{{ f() }}", "stack limit");
    // Filters that apply filters recurse once per argument: 'a'|map('map', 'map', ...) maps a
    // one-character string again and again, copying the arguments left each time (the work
    // limit stops it; the stack limit would next).
    std::string maps;
    for (int i = 0; i < 20000; ++i) maps += "'map', ";
    EXPECT_LIMIT("{{ 'a'|map(" + maps + "'upper')|list }}", "limit");
    // Deep, non-recursive nesting that real templates never approach still works.
    EXPECT_RENDERS(repeat("{% for a in [1] %}", 60) + "x" + repeat("{% endfor %}", 60), "x");
}

// The stack limit shrinks to what the rendering thread has: a worker with 512 KiB of stack
// gets an error where its stack would end, not a crash.
TEST(ChatHostile, TheStackLimitFitsTheThreadsStack) {
    const std::string recursion = "{% macro f() %}" + repeat("{% for a in [1] %}", 8) + "{{ f() }}" +
                                  repeat("{% endfor %}", 8) + "{% endmacro %}{{ f() }}";
    Outcome small = render_isolated(recursion, size_t{512} << 10);
    EXPECT_TRUE(small.crash.empty()) << small;
    EXPECT_NE(small.error.find("stack limit"), std::string::npos) << small;
    EXPECT_EQ(small.error.find("1048576"), std::string::npos) << small;  // less than the default
    Outcome ok = render_isolated("{% macro f() %}{% for m in [1, 2] %}{{ m }}{% endfor %}{% endmacro %}{{ f() }}",
                                 size_t{512} << 10);
    EXPECT_EQ(ok.output, "12") << ok;
}

// Case 2: lists shared within a list are cheap to build and exponential to walk. Printing,
// comparing, serializing and the self-containment check all count what they visit (printing
// meets the string limit first, comparison the work limit).
TEST(ChatHostile, SharedListsCannotMakeWorkExponential) {
    const std::string xy = doubled("x", 40) + doubled("y", 40);
    EXPECT_LIMIT(xy + "{{ x }}", "limit");
    EXPECT_LIMIT(xy + "{{ x == y }}", "work limit");
    EXPECT_LIMIT(xy + "{{ x != y }}", "work limit");
    EXPECT_LIMIT(xy + "{{ x < y }}", "work limit");
    EXPECT_LIMIT(xy + "{{ x|tojson }}", "limit");
    EXPECT_LIMIT(xy + "{{ x|string|length }}", "limit");
    EXPECT_LIMIT(xy + "{{ y in [x] }}", "work limit");
    EXPECT_RENDERS(xy + "{{ x == x }}", "True");  // as Python: identical lists are equal at once
    // The self-containment check of `set ns.attr` visits each shared list once.
    const std::string ns = "{% set ns = namespace(x=[0]) %}{% for i in range(60) %}{% set ns.x = [ns.x, ns.x] %}"
                           "{% endfor %}";
    EXPECT_RENDERS(ns + "done", "done");
    EXPECT_LIMIT(ns + "{{ ns.x }}", "limit");
    EXPECT_LIMIT(ns + "{% do ns.x.append([ns.x, ns]) %}", "cannot contain itself");
}

// Case 3: a step may not hide unbounded work. Big strings and lists are shared, not copied, by
// name lookups; what an operation builds is checked against the limits before it is allocated.
TEST(ChatHostile, OneStepCannotCopyOrBuildWithoutLimit) {
    const std::string big = "{% set s = 'x' * 16000000 %}";
    EXPECT_RENDERS(big + "{% for i in range(10000) %}{% set t = s %}{% endfor %}{{ s|length }}", "16000000");
    EXPECT_LIMIT("{{ ['x' * 16000000] * 1000000 }}", "limit");
    EXPECT_LIMIT("{% set l = ['x' * 16000000] * 1000000 %}{{ l|join }}", "limit");
    EXPECT_LIMIT("{% set l = ['x' * 16000000] * 1000000 %}{{ l|tojson }}", "limit");
    EXPECT_LIMIT("{% set l = ['x' * 16000000] * 1000000 %}{{ l == l + [] }}", "work limit");
    EXPECT_LIMIT(big + "{{ s ~ s }}", "limit");
    EXPECT_RENDERS(big + "{% for i in range(10000) %}{% if s[5] != 'x' %}!{% endif %}{% endfor %}", "");  // walks 5
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% if s[-1] == 'x' %}{% endif %}{% endfor %}", "work limit");
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% if s|length %}{% endif %}{% endfor %}", "work limit");
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% if 'y' in s %}{% endif %}{% endfor %}", "work limit");
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% if s == s ~ '' %}{% endif %}{% endfor %}", "work limit");
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% set t = s.upper() %}{% endfor %}", "work limit");
    EXPECT_LIMIT(big + "{% for i in range(100000) %}{% set t = s|trim %}{% endfor %}", "work limit");
    EXPECT_LIMIT("{% set l = range(100000)|list %}{% for i in range(100000) %}{% set t = l + l %}{% endfor %}",
                 "work limit");
    EXPECT_LIMIT("{% set l = range(100000)|list %}{% for i in range(100000) %}{% set t = l|reverse %}{% endfor %}",
                 "work limit");
}

// Nesting is cheap to build (append a list to the innermost one, 100000 times) and used to be
// freed by one nested destructor call per level, far past the stack's end. It is freed flat now;
// printing, comparing and serializing it stop at the nesting limit.
TEST(ChatHostile, DeeplyNestedValuesAreFreedWithoutRecursion) {
    const std::string deep = "{% set ns = namespace(inner=[]) %}{% set root = ns.inner %}{% for i in range(100000) %}"
                             "{% set next = [] %}{% do ns.inner.append(next) %}{% set ns.inner = next %}{% endfor %}";
    EXPECT_RENDERS(deep + "done", "done");
    EXPECT_LIMIT(deep + "{{ root }}", "nested too deeply");
    EXPECT_LIMIT(deep + "{{ root == [root] }}", "nested too deeply");
    EXPECT_LIMIT(deep + "{{ root|tojson }}", "nested too deeply");
    EXPECT_RENDERS(deep + "{% set ns.root = root %}{{ ns.root|length }}", "1");  // the cycle check walks it all
}

}  // namespace
}  // namespace kiln
