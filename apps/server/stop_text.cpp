#include "apps/server/stop_text.h"

#include <algorithm>
#include <utility>

namespace kiln::server {

StopText::StopText(std::vector<std::string> stops) : stops_(std::move(stops)) {
    std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string StopText::push(std::string_view text) {
    if (stopped_) return {};
    held_ += text;
    if (stops_.empty()) return std::exchange(held_, {});
    // The earliest stop string wins. Everything before held_ was checked already, and held_
    // starts where a stop string could still begin, so searching held_ is enough.
    size_t first = std::string::npos;
    for (const std::string& s : stops_) first = std::min(first, held_.find(s));
    if (first != std::string::npos) {
        stopped_ = true;
        std::string out = held_.substr(0, first);
        held_.clear();
        return out;
    }
    // Hold back the longest tail of held_ that is a proper prefix of some stop string. Stop
    // strings are UTF-8, so such a tail starts on a character boundary.
    size_t keep = 0;
    for (const std::string& s : stops_) {
        for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
        }
    }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopText::flush() {
    if (stopped_) return {};
    return std::exchange(held_, {});
}

}  // namespace kiln::server
