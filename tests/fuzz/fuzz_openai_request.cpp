// The OpenAI request parser: each input is parsed as a /v1/chat/completions body and as a
// /v1/completions body. Malformed JSON, wrong types and out-of-range values must be an ApiError
// (400) naming the field in one line; a request it accepts must hold what the scheduler assumes,
// and its tools must become a template value and a grammar or a one-line error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "apps/server/openai_json.h"
#include "graph/error.h"
#include "models/chat/json_value.h"
#include "models/chat/tool_calls.h"
#include "models/grammar/grammar.h"
#include "fuzz_support.h"

namespace {

void parse(std::string_view body, bool chat) {
    kiln::server::CompletionRequest r;
    try {
        r = kiln::server::parse_completion_request(body, chat, kiln::SamplerParams{});
    } catch (const kiln::server::ApiError& e) {
        kiln::fuzz::check_error(e);
        if (e.status != 400) {
            std::fprintf(stderr, "request refused with status %d, not 400\n", e.status);
            std::abort();
        }
        (void)kiln::server::error_json(e);
        return;
    }
    if (r.chat != chat || (chat && r.messages.empty()) || r.params.max_tokens < -1 || r.n < 1 || r.n > 16 ||
        (r.tools.forced() && r.tools.callable().empty())) {
        std::fprintf(stderr, "accepted request breaks the parser's promises\n");
        std::abort();
    }
    if (!r.tools.active()) return;
    // What the server does next with tools: the template's value, and a forced call's grammar.
    try {
        (void)kiln::jinja::json_to_value(r.tools.tools_json, "tools");
        for (const auto format : {kiln::ToolCallFormat::Hermes, kiln::ToolCallFormat::Llama3, kiln::ToolCallFormat::Mistral}) {
            (void)kiln::Grammar::parse(kiln::tool_call_gbnf(format, r.tools.callable(), r.tools.parallel), "tools");
        }
    } catch (const kiln::Error& e) {
        kiln::fuzz::check_error(e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    parse(body, true);
    parse(body, false);
    return 0;
}
