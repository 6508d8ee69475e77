#include "backends/vulkan/fault_injection.h"

#include <array>
#include <mutex>

namespace kiln::vk {
namespace {

struct FaultState {
    std::mutex mutex;
    std::optional<testing::Fault> armed;
    uint64_t matching = 0;  // calls matching the armed fault so far
    bool fired = false;
    std::array<uint64_t, 3> calls{};  // per FaultPoint
};

FaultState& state() {
    static FaultState s;
    return s;
}

}  // namespace

namespace testing {

void inject_fault(const Fault& fault) {
    FaultState& s = state();
    std::lock_guard lock(s.mutex);
    s.armed = fault;
    s.matching = 0;
    s.fired = false;
    s.calls = {};
}

void clear_faults() {
    FaultState& s = state();
    std::lock_guard lock(s.mutex);
    s.armed.reset();
    s.matching = 0;
    s.fired = false;
    s.calls = {};
}

uint64_t fault_point_calls(FaultPoint point) {
    FaultState& s = state();
    std::lock_guard lock(s.mutex);
    return s.calls[static_cast<size_t>(point)];
}

bool fault_fired() {
    FaultState& s = state();
    std::lock_guard lock(s.mutex);
    return s.fired;
}

}  // namespace testing

namespace detail {

bool fault_now(testing::FaultPoint point, std::optional<MemoryPurpose> purpose) {
    FaultState& s = state();
    // Uncontended outside tests: one lock per allocation, submit or wait, each far costlier.
    std::lock_guard lock(s.mutex);
    ++s.calls[static_cast<size_t>(point)];
    if (!s.armed || s.armed->point != point) return false;
    if (s.armed->purpose && s.armed->purpose != purpose) return false;
    if (++s.matching != s.armed->nth) return false;
    s.armed.reset();
    s.fired = true;
    return true;
}

}  // namespace detail
}  // namespace kiln::vk
