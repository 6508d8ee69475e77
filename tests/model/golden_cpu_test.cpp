// Whole models on the CPU backend against llama.cpp's logits and greedy tokens
// (../shared/golden): the acceptance test of generation that matches llama.cpp.
#include <gtest/gtest.h>

#include "backends/cpu/cpu_backend.h"
#include "golden_test_support.h"
#include "models/model.h"
#include "models/session/session.h"
#include "support/shared_dir.h"

namespace kiln {
namespace {

using namespace kiln::testing;

struct CpuGoldenResult {
    double worst_nmse = 0;
    int id_mismatches = 0;
};

// Feeds prompt + generated ids one token at a time (as the goldens were made), comparing every
// row's logits and, past the prompt, the greedy id.
CpuGoldenResult run_token_by_token(const GoldenRun& g, CpuBackend& backend) {
    Model m = Model::load(g.model);
    SessionOptions o;
    o.n_ctx = 128;
    Session s(m, backend, o);
    CpuGoldenResult r;
    const std::vector<int32_t> seq = g.sequence();
    for (size_t i = 0; i < seq.size(); ++i) {
        auto logits = s.decode({&seq[i], 1});
        const double row_nmse = nmse(logits, g.row(i));
        r.worst_nmse = std::max(r.worst_nmse, row_nmse);
        // Past the prompt, the greedy id must be llama.cpp's wherever the row is decisive: f32/f16
        // rows sit at ~1e-7 so every row with a real margin counts; q8_0 rows after an 8-bit
        // rounding flip (see golden_test_support.h) only where the margin beats that noise.
        if (i + 1 >= g.prompt_ids.size() && decisive(g.row(i), g.top2_gap(i), row_nmse) &&
            argmax(logits) != g.gen_ids[i + 1 - g.prompt_ids.size()]) {
            ++r.id_mismatches;
            ADD_FAILURE() << g.name << ": greedy id differs at row " << i << " (golden top-2 gap " << g.top2_gap(i)
                          << ", row NMSE " << row_nmse << ")";
        }
    }
    return r;
}

// Every instruction set this machine has: each rounds its float sums in its own order, so each
// meets its own 8-bit rounding edges.
TEST(CpuModel, GoldenLogitsAndGreedyIds) {
    KILN_REQUIRE_SHARED(shared);
    for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
        if (!cpu_supports_isa(isa)) continue;
        SCOPED_TRACE(std::string(isa_name(isa)));
        CpuBackend backend(CpuOptions{2, isa});
        for (const GoldenCase& c : golden_cases()) {
            GoldenRun g = load_golden(shared, c.dir, c.name, c.model_dir);
            CpuGoldenResult r = run_token_by_token(g, backend);
            EXPECT_LT(r.worst_nmse, c.max_nmse) << c.name;
            std::printf("%-7s %-28s worst row NMSE %.3g\n", std::string(isa_name(isa)).c_str(), c.name.c_str(), r.worst_nmse);
        }
    }
}

// Prompt chunks (padded static graphs) give the rows token-by-token decoding gives.
TEST(CpuModel, PromptChunksMatchGolden) {
    KILN_REQUIRE_SHARED(shared);
    for (const char* name : {"llama-f32.p2", "llama-q8_0.p2", "mistral-f32.p2"}) {
        GoldenRun g = load_golden(shared, "golden/synthetic", name, "models/synthetic");
        Model m = Model::load(g.model);
        CpuBackend backend(CpuOptions{2, std::nullopt});
        SessionOptions o;
        o.n_ctx = 128;
        o.n_batch = 16;
        o.logits_all = true;
        Session s(m, backend, o);
        s.decode(g.prompt_ids);
        const bool q8 = std::string(name).find("q8_0") != std::string::npos;
        for (size_t i = 0; i < g.prompt_ids.size(); ++i) {
            EXPECT_LT(nmse(s.logits_of(static_cast<int>(i)), g.row(i)), q8 ? kQ8ModelNmse : kFloatModelNmse) << name << " row " << i;
        }
    }
}

}  // namespace
}  // namespace kiln
