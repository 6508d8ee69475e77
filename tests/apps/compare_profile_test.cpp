// `kiln compare --profile`: both backends' runs of the compared graph are timed, a table per
// backend is printed, and --profile-out / --profile-jsonl hold both runs (one step each).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

const auto run = testing::run_kiln_capture;

std::string temp_file(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "kiln_compare_profile_test";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    return path.string();
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The names of the trace's tracks that hold node events.
std::set<std::string> node_tracks(const std::string& path) {
    std::ifstream in(path);
    const nlohmann::json trace = nlohmann::json::parse(in);
    EXPECT_TRUE(trace["traceEvents"].is_array());
    std::map<int, std::string> names;
    std::set<int> used;
    for (const auto& e : trace["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "thread_name") names[e["tid"].get<int>()] = e["args"]["name"];
        if (e["ph"] == "X") {
            EXPECT_GE(e["dur"].get<double>(), 0.0) << e.dump();
            used.insert(e["tid"].get<int>());
        }
    }
    std::set<std::string> tracks;
    for (int tid : used) tracks.insert(names[tid]);
    return tracks;
}

TEST(CompareProfile, TimesBothBackends) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string trace = temp_file("trace.json"), jsonl = temp_file("nodes.jsonl");
    auto r = run({"compare", "-m", model, "-p", "Once upon a time", "--backends", "cpu,reference", "-t", "2", "--json",
                  "--profile", "--profile-out", trace, "--profile-jsonl", jsonl});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);  // the report goes to stderr: stdout stays JSON
    const size_t nodes = j["nodes"].size();
    ASSERT_GT(nodes, 40u);

    EXPECT_NE(r.err.find("profile of cpu:\nprofile: 1 steps, " + std::to_string(nodes) + " node runs"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("profile of reference:\nprofile: 1 steps, " + std::to_string(nodes) + " node runs"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(count_of(r.err, "slowest nodes"), 2u) << r.err;
    EXPECT_EQ(count_of(r.err, "per op:"), 2u) << r.err;

    EXPECT_EQ(node_tracks(trace), (std::set<std::string>{"cpu", "reference"}));
    std::map<int, std::pair<std::string, size_t>> steps;  // step -> (backend, lines)
    std::ifstream in(jsonl);
    for (std::string line; std::getline(in, line);) {
        const auto l = nlohmann::json::parse(line);
        auto& [backend, count] = steps[l["step"].get<int>()];
        backend = l["backend"];
        ++count;
    }
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0], std::make_pair(std::string("cpu"), nodes));
    EXPECT_EQ(steps[1], std::make_pair(std::string("reference"), nodes));
}

TEST(CompareProfile, WithoutFlagsNothingIsTimed) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    auto r = run({"compare", "-m", model, "-p", "Once", "--backends", "cpu,reference", "-t", "2"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("profile"), std::string::npos) << r.err;
    auto bad = run({"compare", "-m", model, "-p", "Once", "--backends", "cpu,reference", "--profile-out",
                    "/nonexistent-dir/t.json"});
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("/nonexistent-dir/t.json: cannot write the profile"), std::string::npos) << bad.err;
}

#ifdef KILN_HAVE_VULKAN
TEST(CompareProfile, VulkanHasItsOwnTable) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string trace = temp_file("vulkan.json");
    auto r = run({"compare", "-m", model, "-p", "Once upon a time", "--backends", "cpu,vulkan", "--device", "0",
                  "--profile", "--profile-out", trace});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("all nodes within their thresholds"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("profile of cpu:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("profile of vulkan:"), std::string::npos) << r.err;  // no node fell back to the CPU
    EXPECT_EQ(node_tracks(trace), (std::set<std::string>{"cpu", "vulkan"}));
}
#endif

}  // namespace
}  // namespace kiln
