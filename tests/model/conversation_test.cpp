// Multi-turn chat reuses the KV cache: a turn evaluates only what the template added, and the
// logits it ends with equal those of evaluating the whole rendered conversation from scratch.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "backends/cpu/cpu_backend.h"
#include "golden_test_support.h"
#include "models/model.h"
#include "models/session/conversation.h"
#include "models/session/generate.h"
#include "models/session/sampler.h"
#include "models/session/session.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Conversation, TurnsReuseTheCacheAndMatchAFreshEvaluation) {
    KILN_REQUIRE_SHARED(shared);
    Model m = Model::load(shared / "models/synthetic/qwen3-f32.gguf");
    Tokenizer tok = Tokenizer::from_gguf(m.file());
    ChatTemplate tmpl = ChatTemplate::parse(read_file(shared / "templates/Qwen-Qwen3-0.6B.jinja"), "qwen3");
    CpuBackend cpu(CpuOptions{2, detect_batch_invariant_cpu_isa()});
    Session s(m, cpu, SessionOptions{});
    Conversation chat(s, tok, tmpl, Conversation::default_options(tok));
    chat.set_system("You are terse.");
    SamplerParams sp;
    sp.temperature = 0;
    Sampler sampler(sp, tok.vocab().size());
    GenerateOptions go;
    go.n_predict = 8;

    int reused = -1;
    auto first = chat.add_user("Hello there", &reused);
    EXPECT_EQ(reused, 0);
    GenerateStats a = generate(s, tok, sampler, first, go, [](std::string_view) {});
    chat.add_assistant(tok.decode(a.tokens), a.tokens);

    auto second = chat.add_user("And then?", &reused);
    EXPECT_GT(reused, static_cast<int>(first.size()) / 2) << "the first turn's tokens should stay cached";
    const std::vector<int32_t> tail(second.begin(), second.end());
    std::span<const float> cont = s.decode(tail);
    const std::vector<float> reused_logits(cont.begin(), cont.end());

    // The same conversation evaluated in one go, in a fresh session.
    Session fresh(m, cpu, SessionOptions{});
    std::vector<ChatMessage> messages = chat.messages();
    ChatOptions o = Conversation::default_options(tok);
    std::vector<int32_t> all = tok.encode(render_chat(tmpl, messages, o), false, true);
    std::span<const float> full = fresh.decode(all);
    EXPECT_EQ(static_cast<size_t>(s.n_past()), all.size());
    EXPECT_LT(nmse(reused_logits, std::vector<float>(full.begin(), full.end())), 1e-6);
}

}  // namespace
}  // namespace kiln
