#include "graph/host_release.h"

#include <map>
#include <mutex>

namespace kiln {
namespace {

struct Listeners {
    std::mutex mutex;
    uint64_t next_id = 1;
    std::map<uint64_t, HostReleaseListener> by_id;
};

Listeners& listeners() {
    static Listeners l;
    return l;
}

}  // namespace

uint64_t add_host_release_listener(HostReleaseListener listener) {
    Listeners& l = listeners();
    std::lock_guard lock(l.mutex);
    const uint64_t id = l.next_id++;
    l.by_id.emplace(id, std::move(listener));
    return id;
}

void remove_host_release_listener(uint64_t id) {
    Listeners& l = listeners();
    std::lock_guard lock(l.mutex);
    l.by_id.erase(id);
}

void announce_host_release(const void* begin, const void* end) {
    Listeners& l = listeners();
    std::lock_guard lock(l.mutex);
    for (auto& [id, listener] : l.by_id) listener(begin, end);
}

}  // namespace kiln
