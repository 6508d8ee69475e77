// The chat template engine: a fuzzed template rendering a fuzzed conversation.
//   input = template source, NUL, one flags byte, then NUL-separated role, content, role, ...
//   flags: bit 0 add_generation_prompt, bit 1 enable_thinking is set, bit 2 its value,
//          bit 3 bos/eos token texts are set, bit 4 a tool list is passed, bit 5 the last
//          message is an assistant tool call without content.
// The render runs under a smaller work budget than the server's (a fuzzer wants many short
// runs; the budget's checks are the same at any size). A template that fails to parse or
// render must say so in one kiln::Error line.
#include <cstdint>
#include <algorithm>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "models/chat/chat_template.h"

namespace {

std::vector<std::string_view> split_nul(std::string_view s) {
    std::vector<std::string_view> parts;
    for (size_t at = 0; at <= s.size();) {
        const size_t end = std::min(s.find('\0', at), s.size());
        parts.push_back(s.substr(at, end - at));
        at = end + 1;
    }
    return parts;
}

kiln::ChatOptions options_from(uint8_t flags) {
    kiln::ChatOptions o;
    o.add_generation_prompt = flags & 1;
    if (flags & 2) o.enable_thinking = (flags & 4) != 0;
    if (flags & 8) {
        o.bos_token = "<s>";
        o.eos_token = "</s>";
    }
    if (flags & 16) {
        kiln::jinja::Dict params;
        params.set("type", "object");
        kiln::jinja::Dict function;
        function.set("name", "get_weather");
        function.set("parameters", kiln::jinja::Value(std::move(params)));
        kiln::jinja::Dict tool;
        tool.set("type", "function");
        tool.set("function", kiln::jinja::Value(std::move(function)));
        o.tools = kiln::jinja::Value(kiln::jinja::List{kiln::jinja::Value(std::move(tool))});
    }
    o.date = std::tm{};  // a fixed date: strftime_now() must not make runs differ
    o.date->tm_year = 126;
    o.date->tm_mday = 1;
    o.limits.max_work = 200'000;
    o.limits.max_output_bytes = 1 << 20;
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view source = input.substr(0, nul);
    std::optional<kiln::ChatTemplate> tmpl;
    if (!kiln::fuzz::attempt([&] { tmpl.emplace(kiln::ChatTemplate::parse(source, "fuzz.jinja")); })) return 0;

    const std::string_view tail = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
    const uint8_t flags = tail.empty() ? 1 : static_cast<uint8_t>(tail[0]);
    std::vector<kiln::ChatMessage> messages;
    if (tail.size() > 1) {
        const std::vector<std::string_view> parts = split_nul(tail.substr(1));
        for (size_t i = 0; i + 1 < parts.size(); i += 2) {
            messages.push_back(kiln::ChatMessage::text(std::string(parts[i]), std::string(parts[i + 1])));
        }
    } else {
        messages.push_back(kiln::ChatMessage::text("system", "Be brief."));
        messages.push_back(kiln::ChatMessage::text("user", "Hello"));
    }
    if (flags & 32) {
        kiln::ChatMessage call;
        call.role = "assistant";
        call.content = std::nullopt;
        call.tool_calls.push_back({"call_1", "get_weather", kiln::jinja::Value(kiln::jinja::Dict{})});
        messages.push_back(std::move(call));
    }
    const kiln::ChatOptions options = options_from(flags);
    kiln::fuzz::attempt([&] { (void)kiln::render_chat(*tmpl, messages, options); });
    return 0;
}
