#pragma once
// Test support: makes one chosen Vulkan call fail as a full or broken device would, so tests can
// check what kiln does then. Nothing in kiln arms a fault, and no flag or environment variable
// reaches this: only a test calling inject_fault(). The seams are where a buffer asks for memory
// (memory_pool.cpp, once per buffer whether it gets a new memory object or a piece of a block:
// the out-of-memory error), vkQueueSubmit and
// vkWaitForFences (commands.cpp: VK_ERROR_DEVICE_LOST); a fault that fires replaces the call,
// which is then not made. Process-wide and thread-safe (kiln serve's engine thread hits it).
#include <cstdint>
#include <optional>

#include "backends/vulkan/memory.h"

namespace kiln::vk::testing {

enum class FaultPoint { allocate_memory, queue_submit, wait_for_fences };

struct Fault {
    FaultPoint point = FaultPoint::allocate_memory;
    uint64_t nth = 1;  // the nth call at `point` after arming fails (1: the next one), once
    // allocate_memory only: count only allocations for this purpose
    std::optional<MemoryPurpose> purpose;
};

// Arms `fault`, replacing one armed before, and restarts the call counts.
void inject_fault(const Fault& fault);
// Disarms and restarts the call counts.
void clear_faults();
// Calls made at `point` since the last inject_fault() or clear_faults(): how a test finds the
// nth call that lands where it wants (count a clean run, then arm).
uint64_t fault_point_calls(FaultPoint point);
// Whether the fault armed last has fired.
bool fault_fired();

// Clears faults on construction and destruction, so a test's fault never outlives it.
class FaultScope {
public:
    FaultScope() { clear_faults(); }
    ~FaultScope() { clear_faults(); }
    FaultScope(const FaultScope&) = delete;
    FaultScope& operator=(const FaultScope&) = delete;
};

}  // namespace kiln::vk::testing

namespace kiln::vk::detail {

// Called by the backend at each seam: counts the call and says whether the armed fault fires
// now. `purpose` is the allocation's (allocate_memory only).
bool fault_now(testing::FaultPoint point, std::optional<MemoryPurpose> purpose = std::nullopt);

}  // namespace kiln::vk::detail
