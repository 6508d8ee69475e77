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
    jinja::RenderStats most;  // the most work and stack any case used
};

void keep_most(jinja::RenderStats& most, const jinja::RenderStats& s) {
    most.work = std::max(most.work, s.work);
    most.peak_stack_bytes = std::max(most.peak_stack_bytes, s.peak_stack_bytes);
}

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
        jinja::RenderStats stats;
        opts.stats = &stats;
        struct Keep {
            GoldenCaseResult& r;
            const jinja::RenderStats& s;
            ~Keep() { keep_most(r.most, s); }
        } keep{result, stats};
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
    jinja::RenderStats most;
    for (const auto& f : files) {
        GoldenCaseResult r = run_golden_file(f, shared / "templates");
        std::printf("  %-50s %d/%d  work %6llu  stack %6zu\n", f.stem().string().c_str(), r.passed, r.total,
                    static_cast<unsigned long long>(r.most.work), r.most.peak_stack_bytes);
        passed += r.passed;
        total += r.total;
        keep_most(most, r.most);
    }
    std::printf("  all goldens: %d/%d\n", passed, total);
    EXPECT_EQ(passed, total);
    // The limits leave real templates a wide margin (measured: see the table above).
    const jinja::RenderLimits limits;
    EXPECT_LT(most.work, limits.max_work / 100);
    EXPECT_LT(most.peak_stack_bytes, limits.max_stack_bytes / 8);
}

// A conversation far longer than golden ones (256 turns of 4 KiB: a million bytes, more than a
// 128k-token context holds) with 16 tools, through every real template: it must stay well inside
// the render limits, which exist for hostile templates, not long chats.
TEST(ChatGolden, LongConversationsStayWellInsideTheLimits) {
    KILN_REQUIRE_SHARED(shared);
    std::vector<ChatMessage> messages;
    for (int i = 0; i < 256; ++i) {
        std::string content = "turn " + std::to_string(i) + ": ";
        while (content.size() < 4096) content += "The quick brown fox jumps over the lazy dog. ";
        messages.push_back(ChatMessage::text(i % 2 ? "assistant" : "user", content));
    }
    std::string tools = "[";
    for (int i = 0; i < 16; ++i) {
        tools += std::string(i ? ", " : "") + R"({"type": "function", "function": {"name": "tool)" + std::to_string(i) +
                 R"(", "description": "Does a thing.", "parameters": {"type": "object", "properties": )" +
                 R"({"city": {"type": "string", "description": "Where."}}, "required": ["city"]}}})";
    }
    tools += "]";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(shared / "templates")) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    const jinja::RenderLimits limits;
    for (const auto& file : files) {
        const std::string stem = file.stem().string();
        ChatTemplate tmpl = ChatTemplate::parse(read_file(file), stem);
        ChatOptions opts;
        opts.bos_token = "<s>";
        opts.eos_token = "</s>";
        opts.tools = test::parse_json(tools);
        opts.date = golden_date();
        jinja::RenderStats stats;
        opts.stats = &stats;
        std::string out = render_chat(tmpl, messages, opts);
        std::printf("  %-50s out %7zu  work %7llu  stack %6zu\n", stem.c_str(), out.size(),
                    static_cast<unsigned long long>(stats.work), stats.peak_stack_bytes);
        EXPECT_GT(out.size(), size_t{256 * 4096}) << stem;
        EXPECT_LT(stats.work, limits.max_work / 4) << stem;
        EXPECT_LT(stats.peak_stack_bytes, limits.max_stack_bytes / 8) << stem;
    }
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
