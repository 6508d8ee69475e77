#pragma once
// The generation goldens' prompt_ids (../shared/golden, made with add_special on and
// parse_special off) against kiln's tokenizer, for every tokenizer model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "tokenizer/golden_cases.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln::testing {

struct PromptGolden {
    const char* model;  // file name of the model
    const char* json;   // the golden json
};

inline void PrintTo(const PromptGolden& g, std::ostream* os) { *os << g.json; }

// Loads the json and the model's tokenizer, checks prompt_ids, and returns both for further
// checks; nullopt when either file is absent (the caller fails: shared/ is present).
struct PromptIdsRun {
    nlohmann::json json;
    Tokenizer tokenizer;
};

inline std::optional<PromptIdsRun> check_prompt_ids(const std::filesystem::path& json_path,
                                                    const std::filesystem::path& model_path) {
    if (!std::filesystem::exists(json_path) || !std::filesystem::exists(model_path)) return std::nullopt;
    std::ifstream in(json_path);
    PromptIdsRun run{nlohmann::json::parse(in), Tokenizer::from_gguf(GgufFile::open(model_path))};
    const std::string prompt = run.json.at("prompt").get<std::string>();
    const auto expected = run.json.at("prompt_ids").get<std::vector<int32_t>>();
    const std::vector<int32_t> got = run.tokenizer.encode(prompt, /*add_special=*/true, /*parse_special=*/false);
    EXPECT_EQ(got, expected) << json_path << ": " << quoted(prompt) << "\n  expected: " << ids_to_string(expected)
                             << "\n  got:      " << ids_to_string(got);
    return run;
}

}  // namespace kiln::testing
