#include "op_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>

#include "backends/cpu/cpu_backend.h"
#include "backends/vulkan/matmul_kernel.h"
#include "graph/cross_check.h"
#include "graph/op_traits.h"
#include "graph/quant/quantize.h"
#include "support/reference_runner.h"
#ifdef KILN_HAVE_VULKAN
#include "backends/vulkan/vulkan_backend.h"
#include "vulkan/vulkan_test_support.h"
#endif

namespace kiln::testing {
namespace {

// splitmix64: deterministic values per tensor, independent of test order.
uint64_t next(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::vector<float> random_values(uint64_t seed, int64_t n, float range) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = range * (static_cast<float>(next(seed) >> 40) / static_cast<float>(1 << 23) * 2.0f - 1.0f);
    return v;
}

// Weights of finished cases stay allocated for the whole process: backends cache uploads by
// host address, so an address must never come back with other bytes.
std::vector<std::unique_ptr<std::vector<uint8_t>>>& kept_weights() {
    static std::vector<std::unique_ptr<std::vector<uint8_t>>> kept;
    return kept;
}

std::vector<uint8_t> encode(DType type, const std::vector<float>& values, const Shape& ne) {
    const uint64_t row = row_bytes(type, static_cast<uint64_t>(ne[0])).value();
    std::vector<uint8_t> bytes(row * static_cast<uint64_t>(ne[1] * ne[2] * ne[3]));
    for (int64_t r = 0; r < ne[1] * ne[2] * ne[3]; ++r) {
        quantize_row(type, values.data() + r * ne[0], bytes.data() + static_cast<uint64_t>(r) * row, ne[0]);
    }
    return bytes;
}

#ifdef KILN_HAVE_VULKAN
struct VulkanHarness {
    ValidationLog log;
    std::unique_ptr<vk::VulkanBackend> backend;
};

std::unique_ptr<vk::VulkanBackend> harness_backend(VulkanHarness& h, vk::MatmulKernel matmul_kernel) {
    vk::VulkanOptions options;
    options.validation = true;
    options.validation_sink = h.log.sink();
    options.matmul_kernel = matmul_kernel;
    // A forced family folds the norm at any column count, so each family's fold is covered.
    if (matmul_kernel != vk::MatmulKernel::automatic) options.norm_fold_max_cols = UINT32_MAX;
    return std::make_unique<vk::VulkanBackend>(options);
}

VulkanHarness* vulkan_harness() {
    static VulkanHarness* harness = []() -> VulkanHarness* {
        if (vulkan_unavailable_reason()) return nullptr;
        auto* h = new VulkanHarness;  // lives for the process: destroying it at exit races gtest's teardown
        h->backend = harness_backend(*h, vk::MatmulKernel::automatic);
        return h;
    }();
    return harness;
}
#endif

// The threshold of the op whose node last wrote `t` (a State is written by copy/set_rows).
double op_threshold(const Graph& g, TensorId t) {
    const TensorId storage = g.storage_of(t);
    const auto nodes = g.nodes();
    for (auto n = nodes.rbegin(); n != nodes.rend(); ++n) {
        if (g.storage_of(n->dst) == storage) return op_traits(n->op).nmse;
    }
    throw std::runtime_error("check_op: no node writes tensor '" + g.tensor(t).name + "'");
}

bool report_mode() {
    const char* v = std::getenv("KILN_OPS_REPORT");
    return v && std::strcmp(v, "1") == 0;
}

void expect_agreement(const std::string& label, const std::string& where, const Tensor& t,
                      const std::vector<float>& got, const std::vector<float>& want, double max_nmse) {
    const Agreement a = compare_values(got, want);
    if (report_mode()) std::printf("[ nmse     ] %-40s %-22s %-12s %.3e\n", label.c_str(), where.c_str(), t.name.c_str(), a.nmse);
    EXPECT_TRUE(a.within(max_nmse)) << label << " " << where << " tensor " << t.name << ": " << agreement_text(a, max_nmse);
}

}  // namespace

TensorId OpGraph::weight(const std::string& name, DType type, Shape ne, float range) {
    return weight_values(name, type, ne, random_values(seed_++ * 7919, ne[0] * ne[1] * ne[2] * ne[3], range));
}

TensorId OpGraph::weight_values(const std::string& name, DType type, Shape ne, const std::vector<float>& values) {
    if (static_cast<int64_t>(values.size()) != ne[0] * ne[1] * ne[2] * ne[3]) throw std::runtime_error("weight_values: wrong count");
    auto bytes = std::make_unique<std::vector<uint8_t>>(encode(type, values, ne));
    const TensorId t = g.weight(name, type, ne, bytes->data());
    weights_.push_back(std::move(bytes));
    return t;
}

TensorId OpGraph::state(const std::string& name, DType type, Shape ne, float range) {
    const TensorId t = g.state(name, type, ne);
    inputs_.emplace_back(t, encode(type, random_values(seed_++ * 15485863, ne[0] * ne[1] * ne[2] * ne[3], range), ne));
    return t;
}

TensorId OpGraph::input(const std::string& name, DType type, Shape ne, float range) {
    const TensorId t = g.input(name, type, ne);
    inputs_.emplace_back(t, encode(type, random_values(seed_++ * 104729, ne[0] * ne[1] * ne[2] * ne[3], range), ne));
    return t;
}

TensorId OpGraph::input_i32(const std::string& name, std::vector<int32_t> values) {
    const TensorId t = g.input(name, DType::I32, {static_cast<int64_t>(values.size()), 1, 1, 1});
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    inputs_.emplace_back(t, std::move(bytes));
    return t;
}

void OpGraph::set_values(TensorId input, std::vector<float> values) {
    for (auto& [t, bytes] : inputs_) {
        if (t != input) continue;
        const Tensor& tensor = g.tensor(t);
        if (static_cast<int64_t>(values.size()) != tensor.n_elements()) throw std::runtime_error("set_values: wrong count");
        bytes = encode(tensor.type, values, tensor.ne);
        return;
    }
    throw std::runtime_error("set_values: not an input of this OpGraph");
}

OpTolerance matmul_tolerance(DType w) {
    const bool quantized = info(w).quantized;
    bool vulkan_int8 = false;
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) {
        const vk::DeviceInfo& d = h->backend->info();
        // (automatic on an accelerated device uses them from idot_min_cols columns: the looser bound)
        vulkan_int8 = d.integer_dot_product && (d.matmul_kernel == vk::MatmulKernel::idot ||
                                                (d.matmul_kernel == vk::MatmulKernel::automatic && d.integer_dot_accelerated));
    }
#endif
    return {.max_nmse = quantized && vulkan_int8 ? kEightBitActivationsNmse : kFloatSumsNmse,
            .max_nmse_cpu = quantized ? kEightBitActivationsNmse : kFloatSumsNmse};
}

bool vulkan_available() {
#ifdef KILN_HAVE_VULKAN
    return vulkan_harness() != nullptr;
#else
    return false;
#endif
}

void force_vulkan_matmul_kernel(std::string_view kernel) {
    const std::optional<vk::MatmulKernel> k = vk::parse_matmul_kernel(kernel);
    if (!k) throw std::invalid_argument("force_vulkan_matmul_kernel: unknown kernel '" + std::string(kernel) + "'");
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) {
        h->backend.reset();  // one device at a time
        h->backend = harness_backend(*h, *k);
    }
#endif
}

bool vulkan_integer_dot() {
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) return h->backend->info().integer_dot_product;
#endif
    return false;
}

std::set<std::string> vulkan_shaders_used() {
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) return h->backend->pipelines().shaders();
#endif
    return {};
}

uint32_t vulkan_subgroup_size() {
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) return h->backend->info().subgroup_size;
#endif
    return 0;
}

uint32_t vulkan_norm_fold_max_cols() {
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) return h->backend->info().shapes.norm_fold_max_cols;
#endif
    return 0;
}

void expect_only_matmul_family_ran(const std::string& family) {
    const auto is_family = [&](const std::string& shader) {
        const bool sg = shader.size() > 3 && shader.compare(shader.size() - 3, 3, "_sg") == 0;
        if (family == "idot") return shader.rfind("matmul_idot_", 0) == 0;
        if (family == "lanes") return shader.rfind("matmul_lanes_", 0) == 0;
        if (family == "tiles") return shader.rfind("matmul_mm_", 0) == 0;
        if (family == "vec") return shader.rfind("matmul_vec_", 0) == 0 && sg;
        return shader.rfind("matmul_vec_", 0) == 0 && !sg;  // vec_shared
    };
    const std::set<std::string> used = vulkan_shaders_used();
    if (!vulkan_available()) return;
    if (family == "idot") {
        if (!vulkan_integer_dot()) return;  // the device picks another family (no integer dots)
        EXPECT_TRUE(used.count("quantize_q8")) << "idot forced, x was never quantized";
    }
    const auto matmuls = std::count_if(used.begin(), used.end(), [](const std::string& s) { return s.rfind("matmul_", 0) == 0; });
    EXPECT_GT(matmuls, 0) << family;
    for (const std::string& s : used) {
        if (s.rfind("matmul_", 0) == 0) {
            EXPECT_TRUE(is_family(s)) << family << " forced, " << s << " ran";
        }
    }
}

std::vector<KernelRun> vulkan_fused_runs(const Graph& g) {
#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) return h->backend->fused_runs(g);
#endif
    (void)g;
    return {};
}

bool full_mode() {
    if (const char* v = std::getenv("KILN_BACKEND_OPS_FULL"); v && std::strcmp(v, "1") == 0) return true;
    for (const std::string& arg : ::testing::internal::GetArgvs()) {
        if (arg == "--full") return true;
    }
    return false;
}

void check_ops(OpGraph& og, std::vector<TensorId> outs, OpTolerance tol, const std::string& label_in) {
    const std::string label = label_in.empty() ? ::testing::UnitTest::GetInstance()->current_test_info()->name() : label_in;
    Graph& g = og.g;
    std::vector<std::vector<float>> want;
    std::vector<double> max_nmse, max_nmse_cpu;  // per output
    for (TensorId out : outs) {
        g.mark_output(out);
        ASSERT_TRUE(g.tensor(out).is_contiguous()) << label << ": the checked tensor must be contiguous";
        max_nmse.push_back(tol.max_nmse >= 0 ? tol.max_nmse : op_threshold(g, out));
        max_nmse_cpu.push_back(tol.max_nmse_cpu >= 0 ? tol.max_nmse_cpu : max_nmse.back());
    }
    {
        ReferenceRunner reference(g);
        for (const auto& [id, bytes] : og.input_bytes()) reference.write(id, std::span<const uint8_t>(bytes));
        reference.run();
        for (TensorId out : outs) want.push_back(tensor_values(g.tensor(out), reference.read(out)));
    }
    const auto run_on = [&](Backend& backend, const std::string& where, const std::vector<double>& bounds) {
        auto exe = backend.compile(g);
        for (const auto& [id, bytes] : og.input_bytes()) exe->write(id, std::span<const uint8_t>(bytes));
        exe->run();
        for (size_t i = 0; i < outs.size(); ++i) {
            const Tensor& t = g.tensor(outs[i]);
            std::vector<uint8_t> bytes(t.n_bytes());
            exe->read(outs[i], bytes);
            expect_agreement(label, where, t, tensor_values(t, bytes), want[i], bounds[i]);
        }
    };
    const auto all_supported = [&](const Backend& backend) {
        for (const Node& n : g.nodes()) {
            if (!backend.supports(g, n)) return false;
        }
        return true;
    };

    // Every ISA this CPU has; one thread (whole ranges) and three (uneven shares on any machine).
    for (CpuIsa isa : kAllCpuIsas) {
        if (!cpu_supports_isa(isa) || tol.vulkan_only) continue;
        for (int threads : {1, 3}) {
            CpuBackend cpu(CpuOptions{threads, isa});
            ASSERT_EQ(all_supported(cpu), tol.cpu_supported) << label << ": cpu supports()";
            if (!tol.cpu_supported) break;
            run_on(cpu, "cpu " + std::string(isa_name(isa)) + " x" + std::to_string(threads), max_nmse_cpu);
        }
    }

#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) {
        vk::VulkanBackend& vulkan = *h->backend;
        ASSERT_EQ(all_supported(vulkan), tol.vulkan_supported) << label << ": vulkan supports()";
        if (tol.vulkan_supported) {
            run_on(vulkan, "vulkan", max_nmse);
            vulkan.release_state("");
        }
        std::lock_guard lock(h->log.mutex);
        EXPECT_TRUE(h->log.errors.empty()) << label << ": " << h->log.errors.size()
                                           << " Vulkan validation messages, first: " << h->log.errors[0];
        h->log.errors.clear();
    } else if (!no_vulkan_allowed()) {
        ADD_FAILURE() << "no Vulkan: " << *vulkan_unavailable_reason()
                      << " (install mesa-vulkan-drivers for lavapipe, or set KILN_ALLOW_NO_VULKAN=1 to skip)";
    }
#endif
    for (auto& w : og.weights_) kept_weights().push_back(std::move(w));
    og.weights_.clear();
}

}  // namespace kiln::testing
