// Every real template in shared/templates renders every golden conversation byte for byte as
// Hugging Face transformers (Jinja2 3.1.6) did, or raises the same TemplateError.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "chat/json_value.h"
#include "models/chat/chat_template.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The goldens' fixed date for strftime_now: 2026-11-22 (a Sunday).
std::tm golden_date() {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 22;
    tm.tm_wday = 0;
    tm.tm_yday = 325;
    return tm;
}

struct GoldenCaseResult {
    int passed = 0;
    int total = 0;
};

GoldenCaseResult run_golden_file(const std::filesystem::path& golden, const std::filesystem::path& templates) {
    nlohmann::json cases = nlohmann::json::parse(read_file(golden));
    const std::string stem = golden.stem().string();
    ChatTemplate tmpl = ChatTemplate::parse(read_file(templates / (stem + ".jinja")), stem + ".jinja");
    GoldenCaseResult result;
    for (const nlohmann::json& c : cases) {
        ++result.total;
        SCOPED_TRACE(stem + " / " + c["case"].get<std::string>() + " extra=" + c["extra"].dump() +
                     " add_generation_prompt=" + c["add_generation_prompt"].dump());
        std::vector<ChatMessage> messages;
        for (const nlohmann::json& m : c["messages"]) {
            ChatMessage msg;
            msg.role = m["role"].get<std::string>();
            msg.content = m["content"].get<std::string>();
            messages.push_back(std::move(msg));
        }
        ChatOptions opts;
        opts.add_generation_prompt = c["add_generation_prompt"].get<bool>();
        if (!c["bos_token"].is_null()) opts.bos_token = c["bos_token"].get<std::string>();
        if (!c["eos_token"].is_null()) opts.eos_token = c["eos_token"].get<std::string>();
        for (const auto& [key, value] : c["extra"].items()) opts.extra.emplace_back(key, test::json_value(value));
        opts.date = golden_date();
        if (c.contains("error")) {
            const std::string expected = c["error"].get<std::string>();
            try {
                std::string out = render_chat(tmpl, messages, opts);
                ADD_FAILURE() << "expected " << expected << ", rendered:\n" << out;
            } catch (const jinja::TemplateException& e) {
                EXPECT_EQ("TemplateError: " + e.message(), expected);
                EXPECT_NE(std::string(e.what()).find(stem + ".jinja:"), std::string::npos) << e.what();
                if ("TemplateError: " + e.message() == expected) ++result.passed;
            }
            continue;
        }
        const std::string expected = c["expected"].get<std::string>();
        std::string out = render_chat(tmpl, messages, opts);
        EXPECT_EQ(out, expected);
        if (out == expected) ++result.passed;
    }
    return result;
}

TEST(ChatGolden, EveryTemplateRendersEveryConversation) {
    KILN_REQUIRE_SHARED(shared);
    const std::filesystem::path dir = shared / "golden" / "chat";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 12u);
    int passed = 0, total = 0;
    for (const auto& f : files) {
        GoldenCaseResult r = run_golden_file(f, shared / "templates");
        std::printf("  %-50s %d/%d\n", f.stem().string().c_str(), r.passed, r.total);
        passed += r.passed;
        total += r.total;
    }
    std::printf("  all goldens: %d/%d\n", passed, total);
    EXPECT_EQ(passed, total);
}

// Templates parse once and render many times; copies share the tree.
TEST(ChatGolden, TemplatesParseOnceRenderMany) {
    KILN_REQUIRE_SHARED(shared);
    ChatTemplate tmpl = ChatTemplate::parse(read_file(shared / "templates" / "Qwen-Qwen3-0.6B.jinja"), "qwen3");
    ChatTemplate copy = tmpl;
    std::vector<ChatMessage> messages{ChatMessage::text("user", "Hi")};
    std::string first = render_chat(tmpl, messages);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(render_chat(copy, messages), first);
    EXPECT_EQ(first, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
}  // namespace kiln
