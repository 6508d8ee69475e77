// Micro-benchmark of the CPU matmul kernels (not a test).
//   bench_cpu_kernels [--isa scalar|avx2|avx512] [--threads 1,2] [--min-ms 400] [--batch 128]
//                     [--types q4_0,q8_0,q4_K,q6_K,f16]
// Matvec: weight GB/s (weight bytes / time) at 4096x4096 and 2048x5632 (k x n), which may stay
// in a large L3 between runs, and "stream": 12 distinct 2048x5632 matrices in one graph (more
// than any L3, as in generation). Batched: GFLOP/s (2*k*n*m / time) at m = --batch. Times are
// the best run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/quant/quantize.h"

namespace {

using namespace kiln;

// Weight bytes: 16 distinct quantized rows repeated (quantizing 16M values with the reference
// quantizer would take longer than the benchmark; speed does not depend on the values).
std::vector<uint8_t> make_weights(DType t, int64_t k, int64_t n) {
    const uint64_t rb = *row_bytes(t, static_cast<uint64_t>(k));
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(k));
    std::vector<uint8_t> distinct(16 * rb), out(static_cast<size_t>(n) * rb);
    for (int r = 0; r < 16; ++r) {
        for (auto& x : row) x = d(rng);
        quantize_row(t, row.data(), distinct.data() + r * rb, k);
    }
    for (int64_t r = 0; r < n; ++r) std::memcpy(out.data() + r * rb, distinct.data() + (r % 16) * rb, rb);
    return out;
}

// Seconds of the fastest run of a graph of one matmul per weight buffer, all on the same x (the
// minimum is the statistic least disturbed by other processes on a shared machine).
double time_matmul(DType t, int64_t k, int64_t n, int64_t m, int threads, CpuIsa isa, double min_ms,
                   const std::vector<std::vector<uint8_t>>& ws) {
    Graph g;
    const TensorId x = g.input("x", DType::F32, {k, m, 1, 1});
    for (size_t i = 0; i < ws.size(); ++i) {
        const TensorId W = g.weight("w" + std::to_string(i), t, {k, n, 1, 1}, ws[i].data());
        g.mark_output(g.matmul(W, x));
    }
    CpuBackend be(CpuOptions{threads, isa});
    auto exe = be.compile(g);
    std::vector<float> xv(static_cast<size_t>(k * m));
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (auto& v : xv) v = d(rng);
    exe->write(x, {reinterpret_cast<const uint8_t*>(xv.data()), xv.size() * sizeof(float)});
    for (int i = 0; i < 3; ++i) exe->run();
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    double best = 1e30;
    do {
        const auto r0 = clock::now();
        exe->run();
        best = std::min(best, std::chrono::duration<double>(clock::now() - r0).count());
    } while (std::chrono::duration<double>(clock::now() - t0).count() * 1e3 < min_ms);
    return best;
}

std::vector<int> parse_list(const char* s) {
    std::vector<int> out;
    for (const char* p = s; *p;) {
        out.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p) ++p;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CpuIsa isa = detect_cpu_isa();
    std::vector<int> threads{1, 2};
    double min_ms = 400;
    int64_t batch = 128;
    std::vector<DType> types{DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::F16};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--isa" && i + 1 < argc) {
            const auto v = isa_from_name(argv[++i]);
            if (!v || !cpu_supports_isa(*v)) return std::fprintf(stderr, "unknown or unsupported isa\n"), 1;
            isa = *v;
        } else if (a == "--threads" && i + 1 < argc) {
            threads = parse_list(argv[++i]);
        } else if (a == "--min-ms" && i + 1 < argc) {
            min_ms = std::atof(argv[++i]);
        } else if (a == "--batch" && i + 1 < argc) {
            batch = std::atoll(argv[++i]);
        } else if (a == "--types" && i + 1 < argc) {
            types.clear();
            for (const char* p = argv[++i]; *p;) {
                const char* e = p;
                while (*e && *e != ',') ++e;
                const auto t = dtype_from_name(std::string(p, e));
                if (!t) return std::fprintf(stderr, "unknown dtype %s\n", std::string(p, e).c_str()), 1;
                types.push_back(*t);
                p = *e ? e + 1 : e;
            }
        } else {
            std::printf("usage: bench_cpu_kernels [--isa scalar|avx2|avx512] [--threads 1,2] [--min-ms 400] [--batch 128] [--types q4_0,f16]\n");
            return a == "--help" ? 0 : 1;
        }
    }
    std::printf("isa %s\n", std::string(isa_name(isa)).c_str());
    const int64_t shapes[][3] = {{4096, 4096, 1}, {2048, 5632, 1}, {2048, 5632, 12}};  // k, n, matrices
    std::printf("%-6s %-10s %4s %9s %8s\n", "dtype", "k x n", "thr", "ms", "GB/s");
    for (DType t : types) {
        for (const auto& s : shapes) {
            std::vector<std::vector<uint8_t>> ws;
            for (int64_t i = 0; i < s[2]; ++i) ws.push_back(make_weights(t, s[0], s[1]));
            const std::string shape = s[2] > 1 ? "stream" : std::to_string(s[0]) + "x" + std::to_string(s[1]);
            for (int th : threads) {
                const double sec = time_matmul(t, s[0], s[1], 1, th, isa, min_ms, ws);
                std::printf("%-6s %-10s %4d %9.3f %8.2f\n", std::string(dtype_name(t)).c_str(), shape.c_str(), th,
                            sec * 1e3, static_cast<double>(ws[0].size() * ws.size()) / sec / 1e9);
            }
        }
    }
    std::printf("\nbatched m=%lld: %-6s %-10s %4s %9s %8s\n", static_cast<long long>(batch), "dtype", "k x n", "thr", "ms",
                "GFLOP/s");
    for (DType t : types) {
        const std::vector<std::vector<uint8_t>> ws{make_weights(t, 4096, 4096)};
        for (int th : threads) {
            const double sec = time_matmul(t, 4096, 4096, batch, th, isa, min_ms, ws);
            std::printf("               %-6s %-10s %4d %9.2f %8.1f\n", std::string(dtype_name(t)).c_str(), "4096x4096", th,
                        sec * 1e3, 2.0 * 4096 * 4096 * static_cast<double>(batch) / sec / 1e9);
        }
    }
    return 0;
}
