// Grammar-constrained sampling: the sampler's filter path picks only allowed tokens and the
// same ones a brute-force check would, the vocabulary walk agrees with per-token checks, and
// generations on synthetic models (random weights: text that fights the grammar every step)
// parse as JSON and validate against their schemas.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "grammar_test_support.h"
#include "models/grammar/grammar.h"
#include "models/grammar/grammar_filter.h"
#include "models/grammar/json_schema.h"
#include "models/model.h"
#include "models/session/generate.h"
#include "models/session/sampler.h"
#include "models/session/session.h"
#include "models/tokenizer/tokenizer.h"
#include "support/shared_dir.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

// Allows the tokens a predicate says, and counts how often the whole vocabulary was restricted.
class PredicateFilter final : public TokenFilter {
public:
    explicit PredicateFilter(std::function<bool(int32_t)> ok) : ok_(std::move(ok)) {}
    bool allows(int32_t t) override { return ok_(t); }
    void restrict(std::span<float> logits) override {
        ++restricts;
        for (size_t i = 0; i < logits.size(); ++i)
            if (!ok_(int32_t(i))) logits[i] = -std::numeric_limits<float>::infinity();
    }
    int restricts = 0;

private:
    std::function<bool(int32_t)> ok_;
};

std::vector<float> ramp(int n) {  // token i has logit i / 10: the best is the last
    std::vector<float> v(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) v[size_t(i)] = float(i) / 10;
    return v;
}

TEST(GrammarSampling, GreedyTakesTheBestAllowedToken) {
    SamplerParams p;
    p.temperature = 0;
    Sampler s(p, 100);
    PredicateFilter odd([](int32_t t) { return t % 2 == 1; });
    PredicateFilter small([](int32_t t) { return t < 10; });
    PredicateFilter none([](int32_t) { return false; });
    const auto logits = ramp(100);
    EXPECT_EQ(s.sample(logits, &odd), 99);
    EXPECT_EQ(odd.restricts, 0);  // the argmax was allowed: no vocabulary pass
    EXPECT_EQ(s.sample(logits, &small), 9);
    EXPECT_EQ(small.restricts, 1);
    EXPECT_EQ(s.sample(logits, &none), Sampler::kNoToken);
}

TEST(GrammarSampling, TopKCandidatesFirstThenTheWholeVocabulary) {
    SamplerParams p;
    p.temperature = 1;
    p.top_k = 5;
    p.top_p = 1;
    p.min_p = 0;
    p.seed = 3;
    Sampler s(p, 100);
    const auto logits = ramp(100);
    PredicateFilter even([](int32_t t) { return t % 2 == 0; });
    for (int i = 0; i < 200; ++i) {
        const int32_t t = s.sample(logits, &even);
        ASSERT_TRUE(t == 98 || t == 96) << t;  // the allowed tokens among the top 5
    }
    EXPECT_EQ(even.restricts, 0);
    PredicateFilter low([](int32_t t) { return t < 20; });  // none in the top 5
    for (int i = 0; i < 200; ++i) {
        const int32_t t = s.sample(logits, &low);
        ASSERT_TRUE(t >= 15 && t < 20) << t;  // top 5 of the allowed
    }
    EXPECT_EQ(low.restricts, 200);
}

const char* kJsonGrammarProbe = R"({"name": "caf\u00e9 \"x\"", "list": [1, -2.5e3, true, null], "o": {}})";

// restrict() walks the vocabulary as a trie; it must agree with allows() token by token, at
// states inside strings, numbers, keys and between them. The walk follows the probe's tokens
// while the grammar allows them (a tokenizer may spell a space in a way JSON refuses) and a
// random allowed token otherwise.
void expect_restrict_matches_allows(const Tokenizer& tok) {
    auto grammar = std::make_shared<const Grammar>(Grammar::parse(json_object_gbnf(), "json"));
    auto vocab = std::make_shared<const GrammarVocab>(tok);
    GrammarFilter filter(grammar, vocab);
    const std::vector<int32_t> probe = tok.encode(kJsonGrammarProbe, false, false);
    std::mt19937 rng(1);
    size_t states = 0, followed = 0, cursor = 0;
    for (size_t k = 0; k < probe.size() + 20; ++k) {
        std::vector<float> logits(size_t(vocab->size()), 0.0f);
        filter.restrict(logits);
        std::vector<int32_t> allowed;
        for (int32_t id = 0; id < vocab->size(); ++id) {
            const bool by_walk = logits[size_t(id)] == 0.0f;
            ASSERT_EQ(by_walk, filter.allows(id)) << "token " << id << " '" << vocab->piece(id) << "' after " << k << " tokens";
            if (by_walk && !vocab->is_eog(id)) allowed.push_back(id);
        }
        ++states;
        while (cursor < probe.size() && !filter.allows(probe[cursor])) ++cursor;
        if (cursor < probe.size()) {
            filter.accept(probe[cursor++]);
            ++followed;
        } else if (!allowed.empty()) {
            filter.accept(allowed[rng() % allowed.size()]);
        } else {
            break;
        }
    }
    EXPECT_GT(states, 10u);
    EXPECT_GT(followed, 5u);
}

TEST(GrammarSampling, VocabularyWalkAgreesWithPerTokenChecksSentencePiece) {
    static testing::TempModel model("grammar-spm", "tiny", DType::F32, 5);
    const Model m = Model::load(model.path());
    expect_restrict_matches_allows(Tokenizer::from_gguf(m.file()));
}

TEST(GrammarSampling, VocabularyWalkAgreesWithPerTokenChecksByteLevelBpe) {
    KILN_REQUIRE_SHARED(shared);
    const Model m = Model::load(shared / "models/synthetic/qwen3-q8_0.gguf");
    expect_restrict_matches_allows(Tokenizer::from_gguf(m.file()));
}

// Schemas for the generation test: every construct the converter has, nested.
const char* kSchemas[] = {
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 0, "maximum": 120}}, "required": ["name", "age"], "additionalProperties": false})",
    R"({"type": "array", "items": {"type": "integer", "minimum": -50, "maximum": 50}, "minItems": 1, "maxItems": 6})",
    R"({"type": "object", "properties": {"mood": {"enum": ["happy", "sad", 3, null]}, "ok": {"type": "boolean"}, "note": {"type": ["string", "null"], "maxLength": 8}}, "required": ["mood"], "additionalProperties": false})",
    R"({"$defs": {"t": {"type": "object", "properties": {"v": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}, "kids": {"type": "array", "items": {"$ref": "#/$defs/t"}, "maxItems": 2}}, "required": ["v"], "additionalProperties": false}}, "$ref": "#/$defs/t"})",
    R"({"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"}, "x": {"type": "number", "minimum": -3, "maximum": 3}}, "required": ["when", "id", "x"], "additionalProperties": false})",
    R"({"anyOf": [{"type": "object", "properties": {"a": {"const": "A"}}, "required": ["a"], "additionalProperties": false}, {"type": "array", "items": {"type": "boolean"}, "maxItems": 3}]})",
    R"({"type": "object", "properties": {"tags": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 9}}}, "required": ["tags"], "additionalProperties": false})",
    R"({"type": "object", "properties": {"s": {"type": "string", "minLength": 2, "maxLength": 5}, "d": {"type": "string", "format": "date"}}, "required": ["s", "d"], "additionalProperties": false})",
};

struct Outcome {
    int valid = 0, truncated = 0;
};

Outcome generate_for_schemas(const Model& m, int seeds, int n_predict) {
    const Tokenizer tok = Tokenizer::from_gguf(m.file());
    CpuBackend cpu(CpuOptions{1, std::nullopt});
    SessionOptions so;
    so.n_ctx = 1024;
    Session session(m, cpu, so);
    Outcome out;
    const std::vector<int32_t> prompt = tok.encode("Answer in JSON:", true, false);
    for (const char* schema_text : kSchemas) {
        const nlohmann::json schema = nlohmann::json::parse(schema_text);
        GenerateOptions go;
        go.n_predict = n_predict;
        go.grammar = std::make_shared<const Grammar>(Grammar::parse(json_schema_to_gbnf(schema_text, "schema"), "schema"));
        for (int seed = 0; seed < seeds; ++seed) {
            SamplerParams sp;
            sp.seed = uint64_t(seed) + 1;
            sp.temperature = 1.0f;
            Sampler sampler(sp, tok.vocab().size());
            session.clear();
            std::string text;
            const GenerateStats st = generate(session, tok, sampler, prompt, go, [&](std::string_view t) { text += t; });
            if (st.stop == StopReason::TokenLimit) {
                ++out.truncated;
                // Cut short, the text must still be a prefix the grammar allows.
                EXPECT_TRUE(testing::grammar_allows_prefix(*go.grammar, text)) << text;
                continue;
            }
            EXPECT_TRUE(st.stop == StopReason::GrammarEnd || st.stop == StopReason::EndOfGeneration)
                << stop_reason_text(st.stop);
            const nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
            if (value.is_discarded()) {
                ADD_FAILURE() << "not JSON: " << text << "\nschema: " << schema_text;
                continue;
            }
            if (const auto why = testing::json_schema_violation(schema, value, schema)) {
                ADD_FAILURE() << *why << "\nschema: " << schema_text << "\noutput: " << text;
                continue;
            }
            ++out.valid;
        }
    }
    return out;
}

TEST(GrammarSampling, GenerationsValidateAgainstTheirSchemasSentencePiece) {
    static testing::TempModel model("grammar-gen", "tiny", DType::Q8_0, 11);
    const Model m = Model::load(model.path());
    const Outcome o = generate_for_schemas(m, 25, 600);
    std::printf("sentencepiece: %d valid, %d cut at the token limit\n", o.valid, o.truncated);
    EXPECT_GE(o.valid, 190);  // of 200
}

TEST(GrammarSampling, GenerationsValidateAgainstTheirSchemasByteLevelBpe) {
    KILN_REQUIRE_SHARED(shared);
    const Model m = Model::load(shared / "models/synthetic/qwen3-q8_0.gguf");
    const Outcome o = generate_for_schemas(m, 10, 600);
    std::printf("byte-level BPE: %d valid, %d cut at the token limit\n", o.valid, o.truncated);
    EXPECT_GE(o.valid, 76);  // of 80
}

}  // namespace
}  // namespace kiln
