// `kiln bench -m M1[,M2...] [-p 512] [-n 128] [-d 0,512] [-r 5] [--backend ...] [-o md|json|csv]`: llama-bench's
// two tests on each model — pp (one prompt batch of p tokens) and tg (n tokens generated one at a
// time) — from an empty cache, or after d tokens already in it ("tg128 @ d512", -d as
// llama-bench's), timed over r repetitions after an uncounted warm-up, as t/s ± std.
// On a device backend each test also reports what one step asked of the device (RunCounts): in
// the JSON always, as a line after the profile with --profile.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/backend_flags.h"
#include "apps/commands.h"
#include "backends/cpu/memory_bandwidth.h"
#include "backends/cpu/thread_pool.h"
#include "apps/format.h"
#include "apps/grammar_flags.h"
#include "apps/profile_flags.h"
#include "graph/error.h"
#include "models/grammar/grammar_filter.h"
#include "models/model.h"
#include "models/session/sampler.h"
#include "models/session/session.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {
namespace {

struct BenchResult {
    std::string model;
    uint64_t bytes = 0, params = 0;
    std::string backend;
    std::string test;  // "pp512", "tg128", "tg128 @ d512" (after 512 tokens in the cache)
    int depth = 0;
    std::vector<double> tokens_per_second;
    std::optional<RunCounts> counts;  // of one step: a decode token (tg) or the prompt batch (pp)
    int step_tokens = 0;              // real tokens of that step
    std::optional<DeviceMemoryUse> memory;  // the backend's device memory after the test

    double mean() const {
        double s = 0;
        for (double v : tokens_per_second) s += v;
        return s / static_cast<double>(tokens_per_second.size());
    }
    double stddev() const {
        if (tokens_per_second.size() < 2) return 0;
        const double m = mean();
        double s = 0;
        for (double v : tokens_per_second) s += (v - m) * (v - m);
        return std::sqrt(s / static_cast<double>(tokens_per_second.size() - 1));
    }
};

std::vector<std::string> split_list(const std::string& list) {
    std::vector<std::string> out;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

// Deterministic token ids spread over the vocabulary (what the tokens are does not change the work).
std::vector<int32_t> bench_tokens(int n, int vocab) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int32_t& id : ids) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        id = static_cast<int32_t>((s >> 33) % static_cast<uint64_t>(vocab));
    }
    return ids;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Each timed run starts from a cache holding `depth` tokens, evaluated before the clock starts
// (and left out of a profile).
void fill_depth(Session& s, const std::vector<int32_t>& depth, ProfileRun& profile) {
    s.clear();
    if (depth.empty()) return;
    profile.pause(true);
    s.decode(depth);
    profile.pause(false);
}

double run_pp(Session& s, const std::vector<int32_t>& depth, const std::vector<int32_t>& prompt, ProfileRun& profile) {
    fill_depth(s, depth, profile);
    const auto t0 = std::chrono::steady_clock::now();
    s.decode(prompt);
    return static_cast<double>(prompt.size()) / seconds_since(t0);
}

double run_tg(Session& s, const std::vector<int32_t>& depth, const std::vector<int32_t>& tokens, ProfileRun& profile) {
    fill_depth(s, depth, profile);
    const auto t0 = std::chrono::steady_clock::now();
    for (const int32_t& t : tokens) s.decode({&t, 1});
    return static_cast<double>(tokens.size()) / seconds_since(t0);
}

// tg with each token sampled (the default chain, a fixed seed) among those a grammar allows,
// so the time includes the sampler and the grammar; compare with plain tg for their cost. A
// grammar that completes starts over: the output is a stream of documents.
class GrammarTg {
public:
    GrammarTg(std::shared_ptr<const Grammar> grammar, const Tokenizer& tokenizer)
        : vocab_(std::make_shared<const GrammarVocab>(tokenizer)),
          sampler_(seeded(), tokenizer.vocab().size()),
          filter_(std::move(grammar), vocab_) {}

    double operator()(Session& s, const std::vector<int32_t>& depth, const std::vector<int32_t>& tokens, ProfileRun& profile) {
        fill_depth(s, depth, profile);
        sampler_.reset();
        filter_.reset();
        const auto t0 = std::chrono::steady_clock::now();
        std::span<const float> logits = s.decode({tokens.data(), 1});
        for (size_t i = 1; i < tokens.size(); ++i) {
            const int32_t id = sampler_.sample(logits, &filter_);
            if (id == Sampler::kNoToken) throw Error("kiln bench: no token fits the grammar");
            if (vocab_->is_eog(id)) {
                filter_.reset();
            } else {
                filter_.accept(id);
                if (filter_.must_end()) filter_.reset();
            }
            sampler_.accept(id);
            logits = s.decode({&id, 1});
        }
        return static_cast<double>(tokens.size()) / seconds_since(t0);
    }

private:
    static SamplerParams seeded() {
        SamplerParams p;
        p.seed = 1;
        return p;
    }

    std::shared_ptr<const GrammarVocab> vocab_;
    Sampler sampler_;
    GrammarFilter filter_;
};

std::string fixed(double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
}

std::string size_text(uint64_t bytes) {
    if (bytes >= (uint64_t{1} << 30)) return fixed(static_cast<double>(bytes) / (1 << 30), 2) + " GiB";
    return fixed(static_cast<double>(bytes) / (1 << 20), 2) + " MiB";
}

void print_markdown(const std::vector<BenchResult>& results, std::ostream& out) {
    out << "| model | size | params | backend | test | t/s |\n";
    out << "| --- | ---: | ---: | --- | ---: | ---: |\n";
    for (const BenchResult& r : results) {
        out << "| " << r.model << " | " << size_text(r.bytes) << " | " << human_count(r.params) << " | " << r.backend
            << " | " << r.test << " | " << fixed(r.mean(), 2) << " ± " << fixed(r.stddev(), 2) << " |\n";
    }
}

void print_csv(const std::vector<BenchResult>& results, std::ostream& out) {
    out << "model,size_bytes,params,backend,test,n_depth,tokens_per_second,stddev,repetitions\n";
    for (const BenchResult& r : results) {
        out << '"' << r.model << "\"," << r.bytes << ',' << r.params << ',' << r.backend << ",\"" << r.test << "\","
            << r.depth << ',' << fixed(r.mean(), 4) << ',' << fixed(r.stddev(), 4) << ',' << r.tokens_per_second.size() << "\n";
    }
}

bool is_tg(const BenchResult& r) { return r.test.rfind("tg", 0) == 0; }

nlohmann::json counts_json(const RunCounts& c, uint64_t weight_bytes) {
    return {{"dispatches", c.dispatches},
            {"submits", c.submits},
            {"host_waits", c.host_waits},
            {"barriers", c.barriers},
            {"bytes_bound_for_reading", c.bytes_bound_for_reading},
            {"bound_per_weight_byte",
             static_cast<double>(c.bytes_bound_for_reading) / static_cast<double>(weight_bytes)},
            {"host_copies", c.host_copies},
            {"host_copy_bytes", c.host_copy_bytes}};
}

void print_json(const std::vector<BenchResult>& results, std::ostream& out) {
    nlohmann::json j = nlohmann::json::array();
    for (const BenchResult& r : results) {
        nlohmann::json row = {{"model", r.model}, {"size_bytes", r.bytes}, {"params", r.params}, {"backend", r.backend},
                              {"test", r.test}, {"n_depth", r.depth}, {"tokens_per_second", r.mean()}, {"stddev", r.stddev()},
                              {"samples", r.tokens_per_second}};
        if (r.counts && is_tg(r)) row["per_token_counts"] = counts_json(*r.counts, r.bytes);
        if (r.counts && !is_tg(r)) {
            row["per_batch_counts"] = counts_json(*r.counts, r.bytes);
            row["per_batch_counts"]["batch_tokens"] = r.step_tokens;
        }
        if (r.memory) {
            const DeviceMemoryUse& m = *r.memory;
            row["device_memory"] = {{"allocations", m.allocations}, {"allocated_bytes", m.allocated_bytes},
                                    {"weights", m.weights},         {"kv_cache", m.kv_cache},
                                    {"activations", m.activations}, {"io", m.io}};
        }
        j.push_back(std::move(row));
    }
    out << j.dump(1) << "\n";
}

// "per decode token: 60 dispatches, 1 submits, ... = 2.10× the model's weight bytes (1.12 MiB)"
void print_counts(const std::vector<BenchResult>& results, std::ostream& out) {
    const auto mib = [](uint64_t b) { return fixed(static_cast<double>(b) / (1 << 20), 2) + " MiB"; };
    for (const BenchResult& r : results) {
        if (!r.counts) continue;
        const RunCounts& c = *r.counts;
        out << r.model << " " << r.backend << " " << r.test << " per "
            << (is_tg(r) ? std::string("decode token") : std::to_string(r.step_tokens) + "-token batch") << ": "
            << c.dispatches << " dispatches, " << c.submits << " submits, " << c.host_waits << " host waits, "
            << c.barriers << " barriers, " << mib(c.bytes_bound_for_reading) << " bound for shader reads = "
            << fixed(static_cast<double>(c.bytes_bound_for_reading) / static_cast<double>(r.bytes), 2)
            << "× the model's weight bytes (" << mib(r.bytes) << ")";
        if (c.host_copies) {
            out << ", " << c.host_copies << " host copies (" << with_commas(c.host_copy_bytes) << " bytes)";
        }
        out << "\n";
        if (const auto& m = r.memory) {
            out << "  device memory: " << m->allocations << " allocations, " << mib(m->allocated_bytes)
                << "; buffers: weights " << mib(m->weights) << ", KV cache " << mib(m->kv_cache) << ", activations "
                << mib(m->activations) << ", inputs and outputs " << mib(m->io) << "\n";
        }
    }
}

}  // namespace

int bench_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    std::vector<FlagSpec> flags = backend_flags();
    flags.insert(flags.end(), {
        {"--model", "-m", true, "GGUF model(s), comma-separated"},
        {"--n-prompt", "-p", true, "prompt tokens of the pp test (default 512; 0 = no pp test)"},
        {"--n-gen", "-n", true, "generated tokens of the tg test (default 128; 0 = no tg test)"},
        {"--n-depth", "-d", true, "tokens already in the cache when a test starts, comma-separated (default 0)"},
        {"--repetitions", "-r", true, "timed runs of each test (default 5)"},
        {"--output", "-o", true, "md (default), json or csv"},
        {"--kv-f32", "", false, "keep the KV cache in f32 instead of f16"},
        {"--help", "-h", false, "show this help"},
    });
    const auto profiling = profile_flags();
    flags.insert(flags.end(), profiling.begin(), profiling.end());
    const auto grammars = grammar_flags();  // given: tg samples through the grammar ("tg128+grammar")
    flags.insert(flags.end(), grammars.begin(), grammars.end());
    Args args("bench", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln bench -m M1.gguf[,M2.gguf...] [-p 512] [-n 128] [-d 0,512] [-r 5] [-o md|json|csv]\n"
            << describe_flags(flags);
        return 0;
    }
    const auto models = split_list(args.get("--model").value_or(""));
    if (models.empty()) throw Error("kiln bench: no model given (-m MODEL.gguf[,MODEL2.gguf])");
    const int n_prompt = static_cast<int>(args.get_int("--n-prompt", 0, 1 << 16).value_or(512));
    const int n_gen = static_cast<int>(args.get_int("--n-gen", 0, 1 << 16).value_or(128));
    const int reps = static_cast<int>(args.get_int("--repetitions", 1, 1000).value_or(5));
    const std::string format = args.get("--output").value_or("md");
    if (format != "md" && format != "json" && format != "csv") {
        throw Error("kiln bench: --output must be md, json or csv, not '" + format + "'");
    }
    if (n_prompt == 0 && n_gen == 0) throw Error("kiln bench: -p 0 and -n 0 leave nothing to measure");
    std::vector<int> depths;
    for (const std::string& d : split_list(args.get("--n-depth").value_or("0"))) {
        char* end = nullptr;
        const long v = std::strtol(d.c_str(), &end, 10);
        if (end == d.c_str() || *end != '\0' || v < 0 || v > (1 << 16)) {
            throw Error("kiln bench: option '--n-depth': '" + d + "' is not an integer in [0, 65536]");
        }
        depths.push_back(static_cast<int>(v));
    }
    if (depths.empty()) throw Error("kiln bench: option '--n-depth' lists no depth");
    const int max_depth = *std::max_element(depths.begin(), depths.end());
    const std::shared_ptr<const Grammar> grammar = grammar_from_flags(args, "bench");
    ProfileRun profile(args);  // the timed runs are profiled, not the warm-ups

    std::vector<BenchResult> results;
    for (const std::string& path : models) {
        const Model model = Model::load(path, weight_memory(args));
        uint64_t bytes = 0, params = 0;
        for (const GgufTensorInfo& t : model.file().tensors()) {
            bytes += t.n_bytes;
            params += t.n_elements;
        }
        auto backend = make_backend(args, "bench", err);
        SessionOptions so;
        so.n_ctx = max_depth + std::max(n_prompt, n_gen) + 1;
        // The whole prompt in one batch (a pp test is one step); depth fills in chunks of up to 256.
        so.n_batch = std::max({n_prompt, std::min(max_depth, 256), 1});
        so.kv_type = args.has("--kv-f32") ? DType::F32 : DType::F16;
        Session session(model, *backend, so);
        const int vocab = session.n_vocab();
        const std::string name = std::filesystem::path(path).filename().string();
        const auto add_test = [&](std::string test, int depth, auto&& run, const std::vector<int32_t>& tokens) {
            const std::vector<int32_t> before = bench_tokens(depth, vocab);
            if (depth > 0) test += " @ d" + std::to_string(depth);
            run(session, before, tokens, profile);  // warm-up: graphs compiled, weights uploaded, caches hot
            BenchResult r{name, bytes, params, std::string(backend->name()), test, depth, {}, std::nullopt, 0, std::nullopt};
            profile.attach(session);
            for (int i = 0; i < reps; ++i) r.tokens_per_second.push_back(run(session, before, tokens, profile));
            profile.detach(session);
            r.counts = session.last_step_counts();  // every step of a test asks the same
            r.backend = session.last_step_backend();  // "vulkan" when no node fell back to the CPU
            r.step_tokens = is_tg(r) ? 1 : static_cast<int>(tokens.size());  // n_batch holds the whole prompt
            r.memory = backend->device_memory();
            results.push_back(std::move(r));
        };
        for (int depth : depths) {
            if (n_prompt > 0) add_test("pp" + std::to_string(n_prompt), depth, run_pp, bench_tokens(n_prompt, vocab));
            if (n_gen > 0 && !grammar) add_test("tg" + std::to_string(n_gen), depth, run_tg, bench_tokens(n_gen, vocab));
            if (n_gen > 0 && grammar) {
                GrammarTg tg(grammar, Tokenizer::from_gguf(model.file()));
                add_test("tg" + std::to_string(n_gen) + "+grammar", depth, tg, bench_tokens(n_gen, vocab));
            }
        }
        profile.session_ended();
    }
    if (format == "md") print_markdown(results, out);
    if (format == "csv") print_csv(results, out);
    if (format == "json") print_json(results, out);
    if (profile.wants_table()) {
        const int threads = static_cast<int>(args.get_int("--threads", 1, 1024).value_or(physical_core_count()));
        profile.set_read_bandwidth(measure_read_bandwidth(threads), threads);
    }
    profile.finish(err);
    if (profile.wants_table()) print_counts(results, err);
    return 0;
}

}  // namespace kiln
