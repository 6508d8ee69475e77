// Prompt-prefix reuse (llama-server's cache_prompt): a request that starts with tokens a free
// slot already holds evaluates only the rest. Greedy answers agree with a server that never
// reuses, on the goldens' models; the slot with the longest common prefix is chosen; a request
// or the server can turn it off.
#include <gtest/gtest.h>

#include "server/test_server.h"
#include "support/shared_dir.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

std::string complete(const TestServer& s, const std::string& prompt, bool cache_prompt = true) {
    auto r = s.post("/v1/completions", json{{"prompt", prompt},
                                            {"max_tokens", 24},
                                            {"temperature", 0},
                                            {"cache_prompt", cache_prompt}}
                                           .dump());
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    return r && r->status == 200 ? json::parse(r->body)["choices"][0]["text"].get<std::string>() : "";
}

// A conversation-like sequence: each prompt extends or shares a prefix with the earlier ones.
const std::vector<std::string> kPrompts = {
    "Once upon a time, there was a little girl named Lily. She loved to play outside",
    "Once upon a time, there was a little girl named Lily. She loved to play outside with her dog",
    "Once upon a time, there was a little girl named Lily. One day she found a box",
    "Once upon a time, there was a big bear",
    "Once upon a time, there was a little girl named Lily. She loved to play outside with her dog. They ran",
};

TEST(PromptCache, GreedyAnswersAgreeWithAFreshPrefillOnTheGoldensModels) {
    KILN_REQUIRE_SHARED(shared);
    for (const char* name : {"stories260K.gguf", "TinyStories-656K.f16.gguf", "tinystories-656k-q8_0.gguf",
                             "synthetic/llama-q8_0.gguf", "synthetic/qwen2-f32.gguf", "synthetic/qwen3-q8_0.gguf",
                             "synthetic/smollm3-f32.gguf", "synthetic/mistral-f32.gguf"}) {
        const std::filesystem::path path = shared / "models" / name;
        if (!std::filesystem::exists(path)) FAIL() << path << " is missing from shared/";
        TestServerOptions fresh_options, reuse_options;
        fresh_options.parallel = reuse_options.parallel = 1;  // one slot: every request meets the last one's cache
        fresh_options.model = reuse_options.model = path;
        fresh_options.cache_prompt = false;
        TestServer fresh(fresh_options), reuse(reuse_options);
        for (const std::string& p : kPrompts) EXPECT_EQ(complete(reuse, p), complete(fresh, p)) << name << ": " << p;
        EXPECT_GT(reuse.metric("kiln_prompt_tokens_reused_total"), 30) << name;
        EXPECT_EQ(fresh.metric("kiln_prompt_tokens_reused_total"), 0) << name;
        EXPECT_LT(reuse.metric("kiln_prompt_tokens_total"), fresh.metric("kiln_prompt_tokens_total")) << name;
    }
}

TEST(PromptCache, TheSlotWithTheLongestCommonPrefixIsChosen) {
    TestServerOptions o;
    o.parallel = 2;
    TestServer s(o);
    const std::string a = "The quick brown fox jumps over the lazy dog near the river bank";
    const std::string b = "A completely different story about a spaceship and the stars";
    complete(s, a);
    complete(s, b);  // shares only BOS with a: goes to the other (least recently used) slot
    const double before = s.metric("kiln_prompt_tokens_reused_total");
    complete(s, a + " and then");
    const size_t a_tokens = s.tokenizer().encode(a, true, false).size();
    // All of a's tokens but perhaps the last (a merge across the join can change it).
    EXPECT_GE(s.metric("kiln_prompt_tokens_reused_total") - before, double(a_tokens) - 1);

    // A request can turn reuse off.
    const double mark = s.metric("kiln_prompt_tokens_reused_total");
    complete(s, a + " and then", /*cache_prompt=*/false);
    EXPECT_EQ(s.metric("kiln_prompt_tokens_reused_total"), mark);
}

TEST(PromptCache, AnIdenticalPromptStillEvaluatesItsLastToken) {
    TestServerOptions o;
    o.parallel = 1;
    TestServer s(o);
    const std::string p = "Tell me about the weather today in a long sentence";
    const std::string first = complete(s, p);
    const double evaluated = s.metric("kiln_prompt_tokens_total");
    EXPECT_EQ(complete(s, p), first);
    EXPECT_EQ(s.metric("kiln_prompt_tokens_total") - evaluated, 1);  // only the last prompt token
}

}  // namespace
}  // namespace kiln::testing
