#pragma once
// What one render may spend. A chat template comes from the model file, so it is untrusted code:
// every render runs under one budget of work (steps taken, items visited or built, bytes copied
// or produced), a cap on the C++ stack it uses, and caps on the strings, lists and output it
// builds, each checked before the memory is allocated. Exceeding any of them is an EvalError
// naming the limit, which the evaluator turns into a one-line kiln::Error.
//
// Value operations (printing, comparison, JSON, string search) have no interpreter at hand;
// they charge the budget of the render running on their thread, Budget::current(). Outside a
// render nothing is counted, and the size caps still hold.
#include <cstddef>
#include <cstdint>

namespace kiln::jinja {

// Results larger than these fail instead of exhausting memory ('x' * 10**12).
constexpr size_t kMaxStringBytes = size_t{16} << 20;
constexpr size_t kMaxListItems = size_t{1} << 20;

struct RenderLimits {
    size_t max_output_bytes = size_t{16} << 20;
    // Work units: one per statement, expression, loop iteration or item visited, one per
    // kBytesPerWorkUnit bytes read, copied or produced, kWorkUnitsPerItem per list item built.
    // Measured at the limit: under a second, and under 100 MB of memory at the peak. A 1 MB
    // conversation through real templates takes under 7% of it.
    uint64_t max_work = 10'000'000;
    // C++ stack the evaluator may use below render(), measured, not estimated from a frame count
    // (frames are 1-2 KB at -O3, more with sanitizers). Lower when the thread has less left.
    size_t max_stack_bytes = size_t{1} << 20;
    int max_call_depth = 64;  // nested macro calls (recursion)
};

constexpr size_t kBytesPerWorkUnit = 8;
constexpr uint64_t kWorkUnitsPerItem = 4;  // a Value is 24 bytes, plus the vector's slack

// What a render used, to compare real templates against the limits.
struct RenderStats {
    uint64_t work = 0;
    size_t peak_stack_bytes = 0;
};

// Defined in evaluator.cpp (models/CMakeLists.txt lists the library's sources).
class Budget {
public:
    // Becomes this thread's current budget until destroyed; measures the stack from here.
    explicit Budget(const RenderLimits& limits);
    ~Budget();
    Budget(const Budget&) = delete;
    Budget& operator=(const Budget&) = delete;

    // The budget of the render running on this thread; null when none is.
    static Budget* current();

    void charge(uint64_t units) {
        used_ += units;
        if (used_ > limits_.max_work) fail_work();
    }
    // Throws when the stack in use below the constructor's frame exceeds the stack limit.
    void check_stack();

    const RenderLimits& limits() const { return limits_; }
    RenderStats stats() const { return {used_, peak_stack_}; }

private:
    [[noreturn]] void fail_work() const;

    RenderLimits limits_;
    uint64_t used_ = 0;
    uintptr_t stack_base_ = 0;
    size_t stack_limit_ = 0;  // max_stack_bytes, or less when the thread's stack is smaller
    size_t peak_stack_ = 0;
    Budget* previous_ = nullptr;
};

// Charge the current budget, if any.
void charge_work(uint64_t units);
void charge_bytes(size_t bytes);
void charge_items(size_t items);  // list items built
void check_stack();
// Throws the string (list) limit's error when a string would hold `bytes` (a list `items`).
void check_string_size(size_t bytes);
void check_list_size(size_t items);
// Before building or growing a string to `size` bytes: checks the limit, then charges the
// `added` bytes (all of them when omitted). Lists likewise, in items.
void reserve_string(size_t size, size_t added);
inline void reserve_string(size_t size) { reserve_string(size, size); }
void reserve_list(size_t items, size_t added);
inline void reserve_list(size_t items) { reserve_list(items, items); }

}  // namespace kiln::jinja
