#pragma once
// The device faults callers act on rather than only print: out of device memory (a smaller
// placement may fit; `--backend auto` falls back to the CPU) and a lost device (nothing runs on
// it again; `kiln serve` answers 503). Free of Vulkan headers, so apps built without Vulkan
// still name them.
#include <string>

#include "graph/error.h"

namespace kiln::vk {

enum class DeviceFault { out_of_memory, lost };

class DeviceError : public Error {
public:
    DeviceError(DeviceFault fault, const std::string& message) : Error(message), fault_(fault) {}
    DeviceFault fault() const { return fault_; }

private:
    DeviceFault fault_;
};

}  // namespace kiln::vk
