#pragma once
// Host memory that backends mirror by address. A backend may keep a copy of host bytes keyed by
// their address (the Vulkan backend uploads each weight once per host address); when the owner
// frees such memory (a model's file mapping), a later allocation can come back at the same
// address with other bytes. So the owner announces the release first, and each listening backend
// forgets what it holds for those addresses.
#include <cstdint>
#include <functional>

namespace kiln {

using HostReleaseListener = std::function<void(const void* begin, const void* end)>;

// Registers `listener` (called on the releasing thread, under a lock shared by all listeners);
// returns an id for remove_host_release_listener.
uint64_t add_host_release_listener(HostReleaseListener listener);
void remove_host_release_listener(uint64_t id);

// [begin, end) is about to be freed.
void announce_host_release(const void* begin, const void* end);

}  // namespace kiln
