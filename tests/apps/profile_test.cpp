// Profiling as a user reaches it: `kiln run --profile --profile-out t.json --profile-jsonl
// t.jsonl` writes a Chrome trace that chrome://tracing and Perfetto open (one track per backend
// and one for transfers) and one JSON line per node per step, and profiling changes neither the
// generated text nor the logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/run_kiln_support.h"
#include "backends/cpu/cpu_backend.h"
#include "models/model.h"
#include "models/session/session.h"
#include "support/shared_dir.h"
#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln {
namespace {

using Result = testing::KilnResult;
const auto run = testing::run_kiln_capture;

// A fresh file name under the test's temporary directory.
std::string temp_file(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "kiln_profile_test";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    return path.string();
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return nlohmann::json::parse(in);
}

// Checks the Chrome trace format and returns the track (thread) names that carry X events.
std::set<std::string> check_trace(const nlohmann::json& trace) {
    EXPECT_TRUE(trace.is_object());
    EXPECT_TRUE(trace.contains("traceEvents") && trace["traceEvents"].is_array());
    std::map<int, std::string> thread_names;
    std::set<int> tids_used;
    size_t complete = 0;
    for (const auto& e : trace["traceEvents"]) {
        EXPECT_TRUE(e.contains("ph") && e["ph"].is_string()) << e.dump();
        if (e["ph"] == "M") {
            if (e["name"] == "thread_name") thread_names[e["tid"].get<int>()] = e["args"]["name"];
            continue;
        }
        EXPECT_EQ(e["ph"], "X") << e.dump();
        for (const char* key : {"name", "cat", "ph", "ts", "dur", "pid", "tid", "args"}) {
            EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
        }
        EXPECT_TRUE(e["ts"].is_number() && e["dur"].is_number()) << e.dump();
        EXPECT_GE(e["ts"].get<double>(), 0.0) << e.dump();
        EXPECT_GE(e["dur"].get<double>(), 0.0) << e.dump();
        EXPECT_TRUE(e["args"].contains("bytes")) << e.dump();
        if (e["cat"] != "transfer") {
            for (const char* key : {"op", "shape", "flops"}) EXPECT_TRUE(e["args"].contains(key)) << key << " in " << e.dump();
        }
        tids_used.insert(e["tid"].get<int>());
        ++complete;
    }
    EXPECT_GT(complete, 0u);
    std::set<std::string> tracks;
    for (int tid : tids_used) {
        EXPECT_TRUE(thread_names.count(tid)) << "track " << tid << " has no thread_name";
        tracks.insert(thread_names[tid]);
    }
    return tracks;
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
}

TEST(Profile, RunWritesATraceAndOneLinePerNodePerStep) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string trace = temp_file("cpu.json"), jsonl = temp_file("cpu.jsonl");
    Result r = run({"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "6", "--ignore-eos", "--backend",
                    "cpu", "-t", "2", "--profile", "--profile-out", trace, "--profile-jsonl", jsonl});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("slowest nodes"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("per op:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("per layer:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("matmul"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(trace + ".partial"));

    EXPECT_EQ(check_trace(read_json(trace)), (std::set<std::string>{"cpu"}));

    // The graphs the run used, built again to count their nodes.
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    CpuBackend cpu;
    Session session(m, cpu);
    const std::vector<nlohmann::json> lines = read_lines(jsonl);
    std::map<int, std::pair<int, size_t>> steps;  // step -> (graph tokens, lines)
    for (const auto& l : lines) {
        auto& [tokens, count] = steps[l["step"].get<int>()];
        tokens = l["graph_tokens"];
        ++count;
        EXPECT_GE(l["dur_us"].get<double>(), 0.0);
        EXPECT_EQ(l["backend"], "cpu");
    }
    // One prompt chunk, then one step per generated token (each is evaluated as it comes).
    ASSERT_EQ(steps.size(), 1u + 6u);
    size_t expected = 0;
    for (const auto& [step, v] : steps) {
        const size_t nodes = session.graph(v.first).graph.nodes().size();
        EXPECT_EQ(v.second, nodes) << "step " << step;
        expected += nodes;
    }
    EXPECT_EQ(lines.size(), expected);
    EXPECT_EQ(steps.begin()->second.first, 8);  // "Once upon a time" + BOS: 5 tokens, an 8-token graph
}

TEST(Profile, ProfilingKeepsTheGeneratedText) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::vector<std::string> base = {"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "32",
                                           "--backend", "cpu", "-t", "2"};
    Result plain = run(base);
    auto profiled_args = base;
    profiled_args.push_back("--profile");
    Result profiled = run(profiled_args);
    ASSERT_EQ(plain.status, 0) << plain.err;
    ASSERT_EQ(profiled.status, 0) << profiled.err;
    EXPECT_EQ(plain.out, profiled.out);
}

// The logits of a prompt and a few decode steps, bit for bit, with and without profiling;
// `toggle` turns it off and on again between steps (the Vulkan command buffer is re-recorded).
std::vector<float> logits_of_steps(const Model& m, Backend& backend, bool profile, bool toggle = false) {
    Session session(m, backend);
    std::vector<NodeTiming> seen;
    const ProfileSink sink = [&](const StepProfile& step) { seen.assign(step.nodes.begin(), step.nodes.end()); };
    if (profile) session.set_profile_sink(sink);
    std::vector<float> all;
    const std::vector<int32_t> prompt = {1, 400, 300, 200, 100};
    auto logits = session.decode(prompt);
    all.insert(all.end(), logits.begin(), logits.end());
    for (int32_t t : {7, 70, 170}) {
        if (toggle) session.set_profile_sink(t == 70 ? ProfileSink{} : sink);
        logits = session.decode({&t, 1});
        all.insert(all.end(), logits.begin(), logits.end());
    }
    if (profile) {
        EXPECT_EQ(seen.size(), session.graph(1).graph.nodes().size());
        for (size_t i = 0; i < seen.size(); ++i) {
            EXPECT_EQ(seen[i].node, i);
            EXPECT_LE(seen[i].start_ns, seen[i].end_ns);
            if (i) {
                EXPECT_LE(seen[i - 1].end_ns, seen[i].start_ns + 1e-3);
            }
        }
    }
    return all;
}

TEST(Profile, ProfilingKeepsTheCpuLogits) {
    KILN_REQUIRE_SHARED(shared);
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    CpuOptions options;
    options.threads = 2;
    CpuBackend cpu(options);
    const std::vector<float> plain = logits_of_steps(m, cpu, false);
    EXPECT_EQ(plain, logits_of_steps(m, cpu, true));
    EXPECT_EQ(plain, logits_of_steps(m, cpu, true, true));
}

TEST(Profile, BadPathIsAOneLineErrorBeforeTheRun) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    Result r = run({"run", "-m", model, "-p", "x", "-n", "2", "--profile-out", "/nonexistent-dir/t.json"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("/nonexistent-dir/t.json: cannot write the profile"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(Profile, BenchPrintsTheTable) {
    KILN_REQUIRE_SHARED(shared);
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string jsonl = temp_file("bench.jsonl");
    Result r = run({"bench", "-m", model, "-p", "16", "-n", "4", "-r", "2", "--backend", "cpu", "--profile",
                    "--profile-jsonl", jsonl});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("per op:"), std::string::npos) << r.err;
    // The CPU matmuls' rate against the machine's measured read bandwidth.
    EXPECT_NE(r.err.find("cpu matmuls: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("% of the measured read bandwidth ("), std::string::npos) << r.err;
    // 2 repetitions of one 16-token step and of 4 one-token steps, warm-ups not profiled.
    std::set<int> steps;
    for (const auto& l : read_lines(jsonl)) steps.insert(l["step"].get<int>());
    EXPECT_EQ(steps.size(), 2u * (1 + 4));
}

#ifdef KILN_HAVE_VULKAN
TEST(Profile, VulkanRunHasAVulkanTrack) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string trace = temp_file("vulkan.json");
    Result r = run({"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "4", "--backend", "vulkan",
                    "--device", "0", "--profile", "--profile-out", trace});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("vulkan"), std::string::npos) << r.err;
    EXPECT_EQ(check_trace(read_json(trace)), (std::set<std::string>{"vulkan"}));
}

TEST(Profile, GpuLayersHaveATransferTrack) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const std::string model = (shared / "models" / "stories260K.gguf").string();
    const std::string trace = temp_file("placed.json"), jsonl = temp_file("placed.jsonl");
    const std::vector<std::string> base = {"run", "-m", model, "-p", "Once upon a time", "--temp", "0", "-n", "8",
                                           "--backend", "vulkan", "--device", "0", "--gpu-layers", "2"};
    auto profiled_args = base;
    profiled_args.insert(profiled_args.end(), {"--profile", "--profile-out", trace, "--profile-jsonl", jsonl});
    Result plain = run(base);
    Result r = run(profiled_args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, plain.out);
    EXPECT_NE(r.err.find("transfers between backends"), std::string::npos) << r.err;
    const nlohmann::json j = read_json(trace);
    EXPECT_EQ(check_trace(j), (std::set<std::string>{"vulkan", "cpu", "transfers"}));
    for (const auto& e : j["traceEvents"]) {
        if (e["ph"] == "X" && e["cat"] == "transfer") {
            EXPECT_GT(e["args"]["bytes"].get<uint64_t>(), 0u);
        }
    }
    // Every node of every step appears once, mapped back to the whole graph's indices.
    std::map<int, std::set<int>> nodes_of_step;
    for (const auto& l : read_lines(jsonl)) {
        EXPECT_TRUE(nodes_of_step[l["step"].get<int>()].insert(l["node"].get<int>()).second) << l.dump();
    }
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    CpuBackend cpu;
    Session session(m, cpu);
    const size_t decode_nodes = session.graph(1).graph.nodes().size();
    EXPECT_EQ(nodes_of_step.rbegin()->second.size(), decode_nodes);
    EXPECT_EQ(*nodes_of_step.rbegin()->second.rbegin(), static_cast<int>(decode_nodes) - 1);
}

TEST(Profile, ProfilingKeepsTheVulkanLogits) {
    KILN_REQUIRE_SHARED(shared);
    KILN_REQUIRE_VULKAN();
    const Model m = Model::load(shared / "models" / "stories260K.gguf");
    testing::ValidationLog log;
    vk::VulkanOptions options;
    options.device_index = 0;
    options.validation = true;
    options.validation_sink = log.sink();
    vk::VulkanBackend vulkan(options);
    const std::vector<float> plain = logits_of_steps(m, vulkan, false);
    EXPECT_EQ(plain, logits_of_steps(m, vulkan, true));
    EXPECT_EQ(plain, logits_of_steps(m, vulkan, true, true));
    EXPECT_TRUE(log.errors.empty()) << log.errors.front();
}
#endif

}  // namespace
}  // namespace kiln
