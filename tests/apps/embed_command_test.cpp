// `kiln embed` as a user runs it: one vector per text, unit length unless asked otherwise, the
// same in text and JSON output, and bad flags one line naming them.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

const std::string& model() {
    static testing::TempModel m("embed-command", "tiny", DType::F32, 6);
    static const std::string path = m.path().string();
    return path;
}

std::vector<std::vector<double>> text_vectors(const std::string& out) {
    std::vector<std::vector<double>> rows;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream nums(line);
        rows.emplace_back();
        for (double x; nums >> x;) rows.back().push_back(x);
    }
    return rows;
}

double norm(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x * x;
    return std::sqrt(s);
}

TEST(EmbedCommand, OneUnitVectorPerTextInTextAndJson) {
    auto r = run({"embed", "-m", model(), "-p", "Once upon a time", "-p", "a cat", "--backend", "cpu"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rows = text_vectors(r.out);
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_EQ(rows[0].size(), rows[1].size());
    EXPECT_GT(rows[0].size(), 8u);
    EXPECT_NE(r.err.find(std::to_string(rows[0].size()) + " dimensions"), std::string::npos) << r.err;
    for (const auto& v : rows) EXPECT_NEAR(norm(v), 1.0, 1e-6);
    EXPECT_NE(rows[0], rows[1]);

    auto j = run({"embed", "-m", model(), "-p", "Once upon a time", "-p", "a cat", "--backend", "cpu", "-o", "json"});
    ASSERT_EQ(j.status, 0) << j.err;
    const nlohmann::json doc = nlohmann::json::parse(j.out);
    ASSERT_EQ(doc["data"].size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const auto v = doc["data"][i]["embedding"].get<std::vector<double>>();
        ASSERT_EQ(v.size(), rows[i].size());
        for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(v[k], rows[i][k], 1e-6) << i << " " << k;
    }
    EXPECT_GT(doc["usage"]["prompt_tokens"].get<int>(), 3);
}

TEST(EmbedCommand, PoolingAndNormalizationChangeTheVector) {
    const std::vector<std::string> base = {"embed", "-m", model(), "-p", "Once upon a time", "--backend", "cpu"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> argv = base;
        argv.insert(argv.end(), extra.begin(), extra.end());
        auto r = run(argv);
        EXPECT_EQ(r.status, 0) << r.err;
        return text_vectors(r.out).at(0);
    };
    const auto mean = with({"--pooling", "mean"});
    const auto last = with({"--pooling", "last"});
    const auto cls = with({"--pooling", "cls"});
    EXPECT_NE(mean, last);
    EXPECT_NE(mean, cls);
    EXPECT_NE(last, cls);
    const auto raw = with({"--pooling", "mean", "--no-normalize"});
    const double n = norm(raw);
    EXPECT_GT(std::fabs(n - 1.0), 1e-3);  // a hidden state's mean is not unit length by chance
    for (size_t k = 0; k < raw.size(); ++k) EXPECT_NEAR(raw[k] / n, mean[k], 1e-6);
}

TEST(EmbedCommand, BadInputIsOneLineNamingIt) {
    auto check = [](const std::vector<std::string>& argv, const std::string& names) {
        auto r = run(argv);
        EXPECT_EQ(r.status, 1) << r.out;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
        EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
    };
    check({"embed", "-m", model()}, "nothing to embed");
    check({"embed", "-m", model(), "-p", "x", "--pooling", "max"}, "--pooling");
    check({"embed", "-m", model(), "-p", "x", "-o", "csv"}, "--output");
    check({"embed", "-m", model(), "-f", "/nonexistent/prompt.txt"}, "/nonexistent/prompt.txt (-f)");
    check({"embed", "-m", model(), "-p", std::string(3000, 'x'), "-c", "64"}, "context");
    check({"serve", "-m", model(), "--port", "0", "--pooling", "max"}, "--pooling");
}

}  // namespace
}  // namespace kiln
