// `kiln bench`: llama-bench's pp and tg tests with repetitions, in markdown, JSON and CSV.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

TEST(BenchCommand, MeasuresPromptAndGenerationPerModel) {
    KILN_REQUIRE_SHARED(shared);
    const std::string a = (shared / "models/stories260K.gguf").string();
    const std::string b = (shared / "models/tinystories-656k-q8_0.gguf").string();
    auto r = run({"bench", "-m", a + "," + b, "-p", "32", "-n", "8", "-r", "3", "-o", "json", "--backend", "cpu"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 4u);
    EXPECT_EQ(j[0]["model"], "stories260K.gguf");
    EXPECT_EQ(j[0]["test"], "pp32");
    EXPECT_EQ(j[1]["test"], "tg8");
    EXPECT_EQ(j[2]["model"], "tinystories-656k-q8_0.gguf");
    EXPECT_EQ(j[0]["params"], 292800);
    for (const auto& row : j) {
        EXPECT_EQ(row["backend"], "cpu");
        EXPECT_EQ(row["samples"].size(), 3u);
        EXPECT_GT(row["tokens_per_second"].get<double>(), 0.0);
    }

    auto md = run({"bench", "-m", a, "-p", "16", "-n", "0", "-r", "1", "--backend", "cpu"});
    ASSERT_EQ(md.status, 0) << md.err;
    EXPECT_NE(md.out.find("| model | size | params | backend | test | t/s |"), std::string::npos) << md.out;
    EXPECT_NE(md.out.find("| stories260K.gguf | 1.12 MiB | 292.80 K | cpu | pp16 |"), std::string::npos) << md.out;
    EXPECT_EQ(md.out.find("tg"), std::string::npos);

    auto csv = run({"bench", "-m", a, "-p", "0", "-n", "4", "-r", "2", "-o", "csv", "--backend", "cpu"});
    ASSERT_EQ(csv.status, 0) << csv.err;
    EXPECT_EQ(csv.out.rfind("model,size_bytes,params,backend,test,n_depth,tokens_per_second,stddev,repetitions\n", 0),
              0u);
    EXPECT_NE(csv.out.find(",cpu,\"tg4\",0,"), std::string::npos) << csv.out;
}

// -d runs each test again after that many tokens in the cache, named as llama-bench names them.
TEST(BenchCommand, DepthsRunEachTestAfterAFilledCache) {
    KILN_REQUIRE_SHARED(shared);
    const std::string a = (shared / "models/stories260K.gguf").string();
    auto r = run({"bench", "-m", a, "-p", "8", "-n", "4", "-d", "0,300", "-r", "2", "-o", "json", "--backend", "cpu"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 4u);
    EXPECT_EQ(j[0]["test"], "pp8");
    EXPECT_EQ(j[1]["test"], "tg4");
    EXPECT_EQ(j[2]["test"], "pp8 @ d300");
    EXPECT_EQ(j[3]["test"], "tg4 @ d300");
    EXPECT_EQ(j[3]["n_depth"], 300);
    EXPECT_GT(j[3]["tokens_per_second"].get<double>(), 0.0);
    auto csv = run({"bench", "-m", a, "-p", "0", "-n", "2", "-d", "17", "-r", "1", "-o", "csv", "--backend", "cpu"});
    ASSERT_EQ(csv.status, 0) << csv.err;
    EXPECT_NE(csv.out.find(",cpu,\"tg2 @ d17\",17,"), std::string::npos) << csv.out;
    auto bad = run({"bench", "-m", a, "-d", "0,x"});
    EXPECT_EQ(bad.status, 1);
    EXPECT_EQ(bad.err, "kiln: kiln bench: option '--n-depth': 'x' is not an integer in [0, 65536]\n");
}

TEST(BenchCommand, BadRequestsAreOneLineErrors) {
    auto none = run({"bench"});
    EXPECT_EQ(none.status, 1);
    EXPECT_NE(none.err.find("no model"), std::string::npos) << none.err;
    auto missing = run({"bench", "-m", "/nonexistent/model.gguf"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
    auto format = run({"bench", "-m", "x.gguf", "-o", "xml"});
    EXPECT_EQ(format.status, 1);
    EXPECT_NE(format.err.find("md, json or csv"), std::string::npos) << format.err;
    auto nothing = run({"bench", "-m", "x.gguf", "-p", "0", "-n", "0"});
    EXPECT_EQ(nothing.status, 1);
}

}  // namespace
}  // namespace kiln
