#pragma once
// Stop strings over streamed text: text is released only once it cannot be the start of a stop
// string, so a client never sees part of a stop string (OpenAI leaves the stop string out).
#include <string>
#include <string_view>
#include <vector>

namespace kiln::server {

class StopText {
public:
    explicit StopText(std::vector<std::string> stops);

    // Adds generated text; returns what may be sent now. After a stop string is found, stopped()
    // is true and the returned text ends just before it.
    std::string push(std::string_view text);
    // What is still held back (the generation ended without a stop string).
    std::string flush();
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string held_;  // text not yet released: a possible start of a stop string
    bool stopped_ = false;
};

}  // namespace kiln::server
