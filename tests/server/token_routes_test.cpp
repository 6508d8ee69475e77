// POST /tokenize, /detokenize and /v1/embeddings on a live test server: answers match what the
// library computes directly, every form of input and output OpenAI's and llama-server's
// clients use is understood, and bad requests are 400s naming the field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <future>

#include "apps/server/token_json.h"
#include "models/session/embedding.h"
#include "server/test_server.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

json post_json(const TestServer& server, const std::string& path, const json& body, int status = 200) {
    auto r = server.post(path, body.dump());
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, status) << path << " " << body.dump() << " -> " << r->body;
    return json::parse(r->body);
}

// The error's message, checking it is a 400 of `code`.
std::string error_400(const TestServer& server, const std::string& path, const json& body, const std::string& code) {
    const json e = post_json(server, path, body, 400);
    EXPECT_EQ(e["error"]["code"], code) << e.dump();
    return e["error"]["message"].get<std::string>();
}

std::vector<float> floats_of_base64(const std::string& b64) {
    auto value = [](char c) -> uint32_t {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        return c == '+' ? 62 : 63;
    };
    std::string bytes;
    for (size_t i = 0; i + 4 <= b64.size(); i += 4) {
        const uint32_t v = value(b64[i]) << 18 | value(b64[i + 1]) << 12 | (b64[i + 2] == '=' ? 0 : value(b64[i + 2]) << 6) |
                           (b64[i + 3] == '=' ? 0 : value(b64[i + 3]));
        bytes += static_cast<char>(v >> 16);
        if (b64[i + 2] != '=') bytes += static_cast<char>(v >> 8);
        if (b64[i + 3] != '=') bytes += static_cast<char>(v);
    }
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

TEST(Base64, Rfc4648Vectors) {
    EXPECT_EQ(server::base64_encode(""), "");
    EXPECT_EQ(server::base64_encode("f"), "Zg==");
    EXPECT_EQ(server::base64_encode("fo"), "Zm8=");
    EXPECT_EQ(server::base64_encode("foo"), "Zm9v");
    EXPECT_EQ(server::base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(server::base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(server::base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(server::base64_encode(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(TokenRoutes, TokenizeAndDetokenizeMatchTheTokenizer) {
    TestServer server;
    const std::string text = "Hello <|im_start|> world, héllo";
    const json ids = post_json(server, "/tokenize", {{"content", text}})["tokens"];
    EXPECT_EQ(ids.get<std::vector<int32_t>>(), server.tokenizer().encode(text, false, true));
    const json plain = post_json(server, "/tokenize", {{"content", text}, {"parse_special", false}})["tokens"];
    EXPECT_EQ(plain.get<std::vector<int32_t>>(), server.tokenizer().encode(text, false, false));
    EXPECT_GT(plain.size(), ids.size());  // the control token's text is spelled out

    // Pieces join back into the text (whole characters as strings, split ones as bytes).
    const json pieces = post_json(server, "/tokenize", {{"content", text}, {"with_pieces", true}})["tokens"];
    ASSERT_EQ(pieces.size(), ids.size());
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
        EXPECT_EQ(pieces[i]["id"], ids[i]);
        const json& p = pieces[i]["piece"];
        if (p.is_string()) {
            joined += p.get<std::string>();
        } else {
            for (const json& b : p) joined += static_cast<char>(b.get<int>());
        }
    }
    EXPECT_EQ(joined, text);

    EXPECT_EQ(post_json(server, "/detokenize", {{"tokens", ids}})["content"], text);
    EXPECT_EQ(post_json(server, "/detokenize", {{"tokens", json::array()}})["content"], "");
}

TEST(TokenRoutes, BadTokenRequestsName400s) {
    TestServer server;
    const int32_t n_vocab = server.tokenizer().vocab().size();
    EXPECT_NE(error_400(server, "/tokenize", json::object(), "missing_field").find("'content'"), std::string::npos);
    EXPECT_NE(error_400(server, "/tokenize", {{"content", 5}}, "invalid_type").find("'content'"), std::string::npos);
    EXPECT_NE(error_400(server, "/tokenize", {{"content", "x"}, {"with_pieces", "yes"}}, "invalid_type").find("with_pieces"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/detokenize", {{"tokens", {1, n_vocab}}}, "invalid_value").find("tokens[1]"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/detokenize", {{"tokens", {1, -1}}}, "invalid_value").find("tokens[1]"), std::string::npos);
    EXPECT_NE(error_400(server, "/detokenize", {{"tokens", {1.5}}}, "invalid_type").find("tokens[0]"), std::string::npos);
    EXPECT_NE(error_400(server, "/detokenize", {{"tokens", "1 2"}}, "invalid_type").find("'tokens'"), std::string::npos);
    auto r = server.post("/tokenize", "{not json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
}

double norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return std::sqrt(s);
}

TEST(Embeddings, MatchTheLibraryInEveryInputAndOutputForm) {
    TestServer server;
    const std::string text = "The quick brown fox";
    const std::vector<int32_t> ids = server.tokenizer().encode(text, true, false);

    // What the library computes for the same tokens, in a session of its own.
    const Model model = Model::load(server_model_path());
    CpuBackend cpu(CpuOptions{1, detect_batch_invariant_cpu_isa()});
    SessionOptions so;
    so.n_ctx = 256;
    so.embeddings = true;
    Session session(model, cpu, so);
    const std::vector<float> expected =
        embed(session, ids, model_pooling(model).value_or(Pooling::Mean), /*normalize=*/true);

    const json one = post_json(server, "/v1/embeddings", {{"input", text}, {"model", "tiny"}});
    EXPECT_EQ(one["object"], "list");
    EXPECT_EQ(one["model"], "tiny");
    EXPECT_EQ(one["usage"]["prompt_tokens"], ids.size());
    EXPECT_EQ(one["usage"]["total_tokens"], ids.size());
    ASSERT_EQ(one["data"].size(), 1u);
    EXPECT_EQ(one["data"][0]["object"], "embedding");
    EXPECT_EQ(one["data"][0]["index"], 0);
    const std::vector<float> got = one["data"][0]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(got.size(), model.hparams().n_embd);
    EXPECT_NEAR(norm(got), 1.0, 1e-5);
    for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], expected[k], 1e-5) << k;

    // Token ids, alone or in a list, give the same vector; a list answers in order.
    const json as_ids = post_json(server, "/v1/embeddings", {{"input", ids}});
    EXPECT_EQ(as_ids["data"][0]["embedding"].get<std::vector<float>>(), got);
    const json many = post_json(server, "/v1/embeddings", {{"input", {"something else", text, ids}}});
    ASSERT_EQ(many["data"].size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(many["data"][i]["index"], i);
    EXPECT_EQ(many["data"][1]["embedding"].get<std::vector<float>>(), got);
    EXPECT_EQ(many["data"][2]["embedding"].get<std::vector<float>>(), got);
    EXPECT_NE(many["data"][0]["embedding"].get<std::vector<float>>(), got);

    // base64 (what the openai clients ask for by default) carries the same float32 values.
    const json b64 = post_json(server, "/v1/embeddings", {{"input", text}, {"encoding_format", "base64"}});
    EXPECT_EQ(floats_of_base64(b64["data"][0]["embedding"].get<std::string>()), got);
    // The same dimensions as the model's are fine.
    post_json(server, "/v1/embeddings", {{"input", text}, {"dimensions", model.hparams().n_embd}});
}

TEST(Embeddings, RunBesideGeneration) {
    TestServer server;
    auto completion = std::async(std::launch::async, [&] {
        return server.post("/v1/completions", R"({"prompt": "Once upon a time", "max_tokens": 48, "temperature": 0})");
    });
    for (int i = 0; i < 4; ++i) {
        const json e = post_json(server, "/v1/embeddings", {{"input", {"a", "b c"}}});
        EXPECT_EQ(e["data"].size(), 2u);
    }
    auto c = completion.get();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, 200) << c->body;
    EXPECT_EQ(json::parse(c->body)["usage"]["completion_tokens"], 48);
}

TEST(Embeddings, BadRequestsAre400sNamingTheField) {
    TestServer server;
    const int32_t n_vocab = server.tokenizer().vocab().size();
    EXPECT_NE(error_400(server, "/v1/embeddings", json::object(), "missing_field").find("'input'"), std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", ""}}, "invalid_value").find("input[0]"), std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", json::array()}}, "invalid_value").find("'input'"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", {"a", 3.5}}}, "invalid_type").find("input[1]"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", {1, n_vocab}}}, "invalid_value").find("input[1]"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", "x"}, {"encoding_format", "int8"}}, "invalid_value")
                  .find("encoding_format"),
              std::string::npos);
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", "x"}, {"dimensions", 3}}, "unsupported_value").find("dimensions"),
              std::string::npos);
    std::vector<int32_t> too_long(300, 5);  // the test server's context is 256
    EXPECT_NE(error_400(server, "/v1/embeddings", {{"input", {json("ok"), json(too_long)}}}, "context_length_exceeded")
                  .find("input[1] has 300 tokens"),
              std::string::npos);
    json lots = json::array();
    for (int i = 0; i < 2049; ++i) lots.push_back("x");
    error_400(server, "/v1/embeddings", {{"input", lots}}, "invalid_value");
}

}  // namespace
}  // namespace kiln::testing

namespace kiln::testing {
namespace {

// kiln serve --pooling overrides the model's pooling; the embedder is the library's embed().
TEST(Embedder, PoolingOverridesTheModels) {
    const Model model = Model::load(server_model_path());
    CpuBackend cpu(CpuOptions{1, detect_batch_invariant_cpu_isa()});
    SessionOptions so;
    so.n_ctx = 64;
    server::Embedder by_model(model, cpu, so);
    server::Embedder last(model, cpu, so, Pooling::Last);
    EXPECT_EQ(by_model.pooling(), model_pooling(model).value_or(Pooling::Mean));
    EXPECT_EQ(last.pooling(), Pooling::Last);
    const std::vector<int32_t> ids = {1, 2, 3, 4, 5};
    SessionOptions eo = so;
    eo.embeddings = true;
    Session session(model, cpu, eo);
    EXPECT_EQ(last.embed(ids), embed(session, ids, Pooling::Last, true));
    EXPECT_NE(last.embed(ids), by_model.embed(ids));
    EXPECT_THROW(last.embed(std::vector<int32_t>(65, 1)), Error);
}

}  // namespace
}  // namespace kiln::testing
