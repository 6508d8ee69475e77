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

// Every instruction set this machine has: each rounds its float sums in its own order, so each
// meets its own 8-bit rounding edges. Greedy ids are checked where the golden's top-2 gap beats
// the case's bound (golden_test_support.h) and wherever a row is bit-identical.
TEST(CpuModel, GoldenLogitsAndGreedyIds) {
    KILN_REQUIRE_SHARED(shared);
    for (CpuIsa isa : kAllCpuIsas) {
        if (!cpu_supports_isa(isa)) continue;
        SCOPED_TRACE(std::string(isa_name(isa)));
        CpuBackend backend(CpuOptions{2, isa});
        for (const GoldenCase& c : golden_cases()) {
            GoldenRun g = load_golden(shared, c.dir, c.name, c.model_dir);
            GoldenResult r = run_token_by_token(g, backend, c.max_nmse);
            EXPECT_LT(r.worst_nmse, c.max_nmse) << c.name;
            EXPECT_GE(r.decisive_rows, min_decisive_rows(g)) << c.name;
            // The 8-bit activation path is ggml's: q8_0 rows match llama.cpp bit for bit until
            // the first activation on a rounding edge, never later than the first token. A
            // mixture of experts has more sums in another order than llama.cpp's (the experts'
            // and the shared expert's), so there the scalar kernels, which sum in ggml's order,
            // are held to it.
            if (c.quantized && (!c.experts || isa == CpuIsa::Scalar)) {
                EXPECT_GE(r.leading_identical_rows(), 1u) << c.name;
            }
            std::printf("%-7s %-28s worst row NMSE %.3g, %d of %zu greedy ids decisive, %zu of %zu rows bit-identical first\n",
                        std::string(isa_name(isa)).c_str(), c.name.c_str(), r.worst_nmse, r.decisive_rows,
                        g.gen_ids.size(), r.leading_identical_rows(), r.row_nmse.size());
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
