// The memory budget: a session whose KV cache, weights or arenas exceed what its backend can
// hold is refused before anything large is allocated, with one line saying what to change.
#include <gtest/gtest.h>

#include <regex>

#include "backends/reference_backend.h"
#include "graph/error.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "models/session/memory_budget.h"
#include "models/session/session.h"
#include "tests/support/allocation_stats.h"
#include "tests/support/temp_model.h"

namespace kiln {
namespace {

const testing::TempModel& wide_kv_model() {
    static const testing::TempModel m("wide-kv", testing::wide_kv_shape(), DType::F16, 1);
    return m;
}

const testing::TempModel& tiny_model() {
    static const testing::TempModel m("budget-tiny", "tiny", DType::F32, 1);
    return m;
}

// A host backend that says it can hold only `limit` bytes.
class SmallBackend : public ReferenceBackend {
public:
    explicit SmallBackend(uint64_t limit, bool host = false) : limit_(limit), host_(host) {}
    std::optional<MemoryLimit> memory_limit() const override { return MemoryLimit{limit_, "the test's heap", host_}; }

private:
    uint64_t limit_;
    bool host_;
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(MemoryBudget, HugeContextIsRefusedBeforeAllocating) {
    const Model model = Model::load(wide_kv_model().path());
    ReferenceBackend backend;
    SessionOptions o;
    o.n_ctx = 1 << 20;
    testing::reset_peak_bytes();
    const long before = testing::live_bytes();
    const std::string e = error_of([&] { Session s(model, backend, o); });
    // Graphs were built to plan the budget; nothing near the cache's size was allocated.
    EXPECT_LT(testing::peak_bytes() - before, 64l << 20);
    EXPECT_NE(e.find(model.file().name() + ": needs 256."), std::string::npos) << e;
    EXPECT_NE(e.find("on reference for a session of 1048576 tokens (KV cache 256.00 GiB) but "), std::string::npos) << e;
    EXPECT_TRUE(e.find("host memory available is ") != std::string::npos ||
                e.find("the cgroup memory limit is ") != std::string::npos) << e;
    EXPECT_NE(e.find("; try -c "), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(MemoryBudget, TheSuggestedContextFits) {
    const Model model = Model::load(wide_kv_model().path());
    SmallBackend backend(uint64_t{3} << 30);  // 3 GiB
    SessionOptions o;
    o.n_ctx = 1 << 16;
    const MemoryBudget too_big = plan_memory_budget(model, backend, o);
    EXPECT_EQ(too_big.kv_bytes_per_token, 256u << 10);
    const auto problem = memory_budget_problem(too_big);
    ASSERT_TRUE(problem);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*problem, m, std::regex("try -c ([0-9]+) or less"))) << *problem;
    o.n_ctx = std::stoi(m[1]);
    EXPECT_GT(o.n_ctx, 8000);
    EXPECT_FALSE(memory_budget_problem(plan_memory_budget(model, backend, o))) << "-c " << o.n_ctx;
    o.n_ctx += 1024;
    EXPECT_TRUE(memory_budget_problem(plan_memory_budget(model, backend, o))) << "-c " << o.n_ctx;
}

TEST(MemoryBudget, PartsAreNamedLargestFirstWithTheKnobsThatHelp) {
    const Model model = Model::load(tiny_model().path());
    SessionOptions o;
    o.kv_type = DType::F32;
    const MemoryBudget budget = plan_memory_budget(model, SmallBackend(1), o);
    ASSERT_EQ(budget.backends.size(), 1u);
    const BackendBudget& b = budget.backends[0];
    EXPECT_GT(b.weights, 4u << 20);  // tiny's f32 weights
    EXPECT_EQ(b.kv_cache, 4ull * 2 * 2048 * 128 * 4);  // layers x (K, V) x context x kv width x f32
    EXPECT_GT(b.arenas, 0u);
    const std::string e = error_of([&] {
        SmallBackend tiny_heap(b.total() - 1);
        Session s(model, tiny_heap, o);
    });
    EXPECT_NE(e.find("(weights "), std::string::npos) << e;  // the largest part first
    EXPECT_NE(e.find(", KV cache 8.00 MiB, arenas "), std::string::npos) << e;
    EXPECT_NE(e.find("but the test's heap is "), std::string::npos) << e;
    EXPECT_NE(e.find("no --kv-f32 (halves the KV cache)"), std::string::npos) << e;

    SmallBackend enough(b.total());
    EXPECT_NO_THROW(Session(model, enough, o));
}

TEST(MemoryBudget, ParallelSlotsAreCheckedTogether) {
    const Model model = Model::load(tiny_model().path());
    const uint64_t one = plan_memory_budget(model, ReferenceBackend(), {}).backends[0].total();
    const uint64_t four = plan_memory_budget(model, ReferenceBackend(), {}, 4).backends[0].total();
    EXPECT_GT(four, one + 3 * (4ull * 2 * 2048 * 128 * 2));  // three more f16 caches, at least
    SmallBackend backend(one + (four - one) / 2);
    BatchOptions bo;
    bo.n_slots = 1;
    EXPECT_NO_THROW(BatchSession(model, backend, bo));
    bo.n_slots = 4;
    const std::string e = error_of([&] { BatchSession b(model, backend, bo); });
    EXPECT_NE(e.find("for 4 sessions of 2048 tokens"), std::string::npos) << e;
    EXPECT_NE(e.find("fewer --parallel slots"), std::string::npos) << e;
}

TEST(MemoryBudget, HostBackendsShareOneLimit) {
    const Model model = Model::load(tiny_model().path());
    MemoryBudget budget = plan_memory_budget(model, ReferenceBackend(), {});
    const uint64_t total = budget.backends[0].total();
    budget.backends.push_back(budget.backends[0]);
    budget.backends[0].limit = MemoryLimit{total + total / 2, "host", true};
    budget.backends[1].limit = MemoryLimit{total * 4, "host", true};
    // Each fits alone; together they need 2x the smaller host limit.
    const auto problem = memory_budget_problem(budget);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("on reference+reference"), std::string::npos) << *problem;
    budget.backends[1].limit->host = false;  // a device with its own memory
    EXPECT_FALSE(memory_budget_problem(budget));
}

}  // namespace
}  // namespace kiln
