#include "op_check.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>

#include "backends/cpu/cpu_backend.h"
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

// The tensor's elements as doubles (f32/f16/bf16/i32 and quantized rows), packed.
std::vector<double> decode(const Tensor& t, const std::vector<uint8_t>& bytes) {
    std::vector<double> out;
    out.reserve(static_cast<size_t>(t.n_elements()));
    std::vector<float> row(static_cast<size_t>(t.ne[0]));
    for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < t.ne[1]; ++i1) {
                const uint8_t* p = bytes.data() + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
                if (t.type == DType::I32) {
                    for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) {
                        int32_t v;
                        std::memcpy(&v, p + 4 * i0, 4);
                        out.push_back(v);
                    }
                } else {
                    dequantize_row(t.type, p, row.data(), t.ne[0]);
                    out.insert(out.end(), row.begin(), row.end());
                }
            }
    return out;
}

#ifdef KILN_HAVE_VULKAN
struct VulkanHarness {
    ValidationLog log;
    std::unique_ptr<vk::VulkanBackend> backend;
};

VulkanHarness* vulkan_harness() {
    static VulkanHarness* harness = []() -> VulkanHarness* {
        if (vulkan_unavailable_reason()) return nullptr;
        auto* h = new VulkanHarness;  // lives for the process: destroying it at exit races gtest's teardown
        vk::VulkanOptions options;
        options.validation = true;
        options.validation_sink = h->log.sink();
        h->backend = std::make_unique<vk::VulkanBackend>(options);
        return h;
    }();
    return harness;
}
#endif

struct Outcome {
    std::string backend;
    std::vector<double> values;
};

void compare(const std::string& label, const Outcome& got, const std::vector<double>& want, double max_nmse) {
    ASSERT_EQ(got.values.size(), want.size()) << label << " " << got.backend;
    double err = 0, ref = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const double a = got.values[i], b = want[i];
        if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
            const bool same = (std::isnan(a) && std::isnan(b)) || (std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0));
            ASSERT_TRUE(same) << label << " " << got.backend << ": element " << i << " is " << a
                              << ", the reference has " << b;
            continue;
        }
        err += (a - b) * (a - b);
        ref += b * b;
    }
    const double nmse = ref > 0 ? err / ref : err;
    EXPECT_LE(nmse, max_nmse) << label << " " << got.backend << ": NMSE " << nmse << " against the reference";
}

}  // namespace

TensorId OpGraph::weight(const std::string& name, DType type, Shape ne, float range) {
    const auto values = random_values(seed_++ * 7919, ne[0] * ne[1] * ne[2] * ne[3], range);
    auto bytes = std::make_unique<std::vector<uint8_t>>(encode(type, values, ne));
    const TensorId t = g.weight(name, type, ne, bytes->data());
    weights_.push_back(std::move(bytes));
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

bool vulkan_available() {
#ifdef KILN_HAVE_VULKAN
    return vulkan_harness() != nullptr;
#else
    return false;
#endif
}

bool full_mode() {
    if (const char* v = std::getenv("KILN_BACKEND_OPS_FULL"); v && std::strcmp(v, "1") == 0) return true;
    for (const std::string& arg : ::testing::internal::GetArgvs()) {
        if (arg == "--full") return true;
    }
    return false;
}

void check_op(OpGraph& og, TensorId out, OpTolerance tol, const std::string& label_in) {
    const std::string label = label_in.empty() ? ::testing::UnitTest::GetInstance()->current_test_info()->name() : label_in;
    Graph& g = og.g;
    g.mark_output(out);
    const Tensor& t = g.tensor(out);
    ASSERT_TRUE(t.is_contiguous()) << label << ": the checked tensor must be contiguous";

    ReferenceRunner reference(g);
    for (const auto& [id, bytes] : og.input_bytes()) reference.write(id, std::span<const uint8_t>(bytes));
    reference.run();
    const std::vector<double> want = decode(t, reference.read(out));

    const auto run_on = [&](Backend& backend) {
        auto exe = backend.compile(g);
        for (const auto& [id, bytes] : og.input_bytes()) exe->write(id, std::span<const uint8_t>(bytes));
        exe->run();
        std::vector<uint8_t> bytes(t.n_bytes());
        exe->read(out, bytes);
        return Outcome{std::string(backend.name()), decode(t, bytes)};
    };
    const auto all_supported = [&](const Backend& backend) {
        for (const Node& n : g.nodes()) {
            if (!backend.supports(g, n)) return false;
        }
        return true;
    };

    {
        CpuBackend cpu(CpuOptions{2, std::nullopt});
        ASSERT_EQ(all_supported(cpu), tol.cpu_supported) << label << ": cpu supports()";
        if (tol.cpu_supported) compare(label, run_on(cpu), want, tol.max_nmse_cpu < 0 ? tol.max_nmse : tol.max_nmse_cpu);
    }

#ifdef KILN_HAVE_VULKAN
    if (VulkanHarness* h = vulkan_harness()) {
        vk::VulkanBackend& vulkan = *h->backend;
        ASSERT_EQ(all_supported(vulkan), tol.vulkan_supported) << label << ": vulkan supports()";
        if (tol.vulkan_supported) {
            const Outcome got = run_on(vulkan);
            vulkan.release_state("");
            compare(label, got, want, tol.max_nmse);
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
