// Projections of one x as one Vulkan kernel, against the reference composition of the nodes
// they replace, with every matmul kernel family forced and an assertion of what fused:
//   q, k and v (2-3 matmuls of one x, each into its own output), gate and up with the swiglu of
//   their outputs (only the product stored), and either with the rms_norm + mul before them
//   folded into the loads of x. Where the runs must stop (another reader of the normalised
//   rows, weights of another dtype), they do.
#include <string>
#include <vector>

#include "backend_ops/op_check.h"

namespace kiln::testing {
namespace {

struct ProjectionCase {
    DType wt = DType::F32;
    int64_t k = 64;
    std::vector<int64_t> rows = {48, 16, 16};  // per projection
    int64_t cols = 1;
    bool norm = false;
    bool swiglu = false;  // two projections: up first (as the decoder builds them), then gate
};

std::string describe(const ProjectionCase& c, const std::string& kernel) {
    std::string rows;
    for (int64_t r : c.rows) rows += (rows.empty() ? "" : "/") + std::to_string(r);
    return kernel + " " + std::string(dtype_name(c.wt)) + " k=" + std::to_string(c.k) + " rows=" + rows +
           " cols=" + std::to_string(c.cols) + (c.norm ? " norm" : "") + (c.swiglu ? " swiglu" : "");
}

void run_projections(const ProjectionCase& c, const std::string& kernel) {
    OpGraph og;
    Graph& g = og.g;
    TensorId x = og.input("x", DType::F32, {c.k, c.cols, 1, 1}, 2.0f);
    if (c.norm) x = g.mul(g.rms_norm(x, 1e-5f), og.weight("norm.weight", DType::F32, {c.k, 1, 1, 1}));
    std::vector<TensorId> outs;
    for (size_t i = 0; i < c.rows.size(); ++i) {
        const TensorId w = og.weight("w" + std::to_string(i), c.wt, {c.k, c.rows[i], 1, 1});
        outs.push_back(g.matmul(w, x));
    }
    // The device's table says up to how many columns the norm folds (forced kernels: always);
    // beyond, it is a kernel of its own before the projections.
    const bool folds = c.norm && (kernel != "auto" || c.cols <= vulkan_norm_fold_max_cols());
    std::string fused = std::string(folds ? "rms_norm+mul+" : "") + "matmul*" + std::to_string(c.rows.size());
    if (c.swiglu) {
        outs = {g.swiglu(outs[1], outs[0])};
        fused += "+swiglu";
    }
    const std::string label = describe(c, kernel);
    if (c.norm && !folds) {
        expect_vulkan_runs(g, {"rms_norm+mul", fused}, label);
    } else {
        expect_vulkan_runs(g, {fused}, label);
    }
    check_ops(og, outs, matmul_tolerance(c.wt), label);
}

// Segments and pairs are one row mapping (matmul_params.glsl) every family reads its weights
// through, and the norm one load function: each family forced with a float and a K-quant weight,
// shapes that leave partial workgroups and tiles, one column (decode) and several.
TEST(FusedProjections, EveryKernelFamily) {
    for (const char* kernel : {"lanes", "vec", "vec_shared", "tiles", "idot"}) {
        force_vulkan_matmul_kernel(kernel);
        // idot: quantized weights only (the 32-element formats' 8-bit activations put swiglu of
        // two projections past the bounds on the CPU too; MatMulKernels covers those dtypes).
        const bool idot = std::string_view(kernel) == "idot";
        for (DType wt : idot ? std::vector{DType::Q4_K} : std::vector{DType::F32, DType::Q4_K}) {
            const int64_t k = info(wt).block_size == 256 ? 512 : 96;
            for (bool norm : {false, true}) {
                for (int64_t cols : {1, 5}) {
                    run_projections({.wt = wt, .k = k, .rows = {40, 24, 24}, .cols = cols, .norm = norm}, kernel);
                    run_projections({.wt = wt, .k = k, .rows = {33, 7}, .cols = cols, .norm = norm}, kernel);
                    run_projections({.wt = wt, .k = k, .rows = {37, 37}, .cols = cols, .norm = norm, .swiglu = true},
                                    kernel);
                }
            }
        }
        expect_only_matmul_family_ran(kernel);
    }
    force_vulkan_matmul_kernel("auto");
}

// Every dtype family with the kernel the device picks, for decode and a prompt.
TEST(FusedProjections, WeightTypes) {
    for (DType wt : {DType::F16, DType::BF16, DType::Q4_0, DType::Q5_1, DType::Q8_0, DType::Q6_K, DType::IQ4_NL}) {
        const int64_t k = info(wt).block_size == 256 ? 256 : 128;
        for (int64_t cols : {1, 9}) {
            run_projections({.wt = wt, .k = k, .rows = {64, 32, 32}, .cols = cols, .norm = true}, "auto");
            run_projections({.wt = wt, .k = k, .rows = {96, 96}, .cols = cols, .norm = true, .swiglu = true}, "auto");
        }
    }
}

// A long row: the norm's sums of squares span many steps of each kernel's k loop.
TEST(FusedProjections, LongRowsWithTheNorm) {
    for (int64_t cols : {1, 3, 70}) {
        run_projections({.wt = DType::Q8_0, .k = 2048, .rows = {64, 16, 16}, .cols = cols, .norm = true}, "auto");
        run_projections({.wt = DType::Q4_0, .k = 2048, .rows = {80, 80}, .cols = cols, .norm = true, .swiglu = true},
                        "auto");
    }
}

// v in another dtype than q and k (Q4_K_M models): one run with the norm folded into both of
// its kernels, q and k in one, v in the other.
TEST(FusedProjections, AnotherWeightTypeIsASecondKernel) {
    OpGraph og;
    Graph& g = og.g;
    const TensorId x = og.input("x", DType::F32, {256, 1, 1, 1});  // decode: the norm folds everywhere
    const TensorId h = g.mul(g.rms_norm(x, 1e-5f), og.weight("norm", DType::F32, {256, 1, 1, 1}));
    const TensorId q = g.matmul(og.weight("wq", DType::Q4_K, {256, 64, 1, 1}), h);
    const TensorId k = g.matmul(og.weight("wk", DType::Q4_K, {256, 32, 1, 1}), h);
    const TensorId v = g.matmul(og.weight("wv", DType::Q6_K, {256, 32, 1, 1}), h);
    expect_vulkan_fused(g, 1, "q4_k q/k, q6_k v", "rms_norm+mul+matmul*3");
    check_ops(og, {q, k, v}, matmul_tolerance(DType::Q4_K), "q4_k q/k, q6_k v");
    // Without the norm too: the run is worth it when one of its kernels does several.
    OpGraph bare;
    const TensorId y = bare.input("y", DType::F32, {256, 2, 1, 1});
    const TensorId a = bare.g.matmul(bare.weight("wa", DType::Q6_K, {256, 16, 1, 1}), y);
    const TensorId b = bare.g.matmul(bare.weight("wb", DType::Q4_K, {256, 16, 1, 1}), y);
    const TensorId c = bare.g.matmul(bare.weight("wc", DType::Q4_K, {256, 16, 1, 1}), y);
    expect_vulkan_runs(bare.g, {"matmul*3"});
    check_ops(bare, {a, b, c}, matmul_tolerance(DType::Q4_K), "q6_k, then q4_k twice");
}

// The normalised rows read by another node too: the norm is its own kernel, the projections
// still one.
TEST(FusedProjections, NormApartWhenItsRowsAreReadElsewhere) {
    OpGraph og;
    Graph& g = og.g;
    const TensorId x = og.input("x", DType::F32, {64, 3, 1, 1});
    const TensorId h = g.mul(g.rms_norm(x, 1e-5f), og.weight("norm", DType::F32, {64, 1, 1, 1}));
    const TensorId a = g.matmul(og.weight("wa", DType::Q8_0, {64, 32, 1, 1}), h);
    const TensorId b = g.matmul(og.weight("wb", DType::Q8_0, {64, 32, 1, 1}), h);
    const TensorId seen = g.scale(h, 2.0f);
    expect_vulkan_runs(g, {"rms_norm+mul", "matmul*2"});
    check_ops(og, {a, b, seen}, matmul_tolerance(DType::Q8_0), "norm read elsewhere");
}

// A swiglu reading one projection twice, or a projection and something else, is no pair.
TEST(FusedProjections, NoPairWithoutBothProjections) {
    OpGraph og;
    Graph& g = og.g;
    const TensorId x = og.input("x", DType::F32, {64, 2, 1, 1});
    const TensorId up = g.matmul(og.weight("up", DType::F16, {64, 24, 1, 1}), x);
    const TensorId gate = g.matmul(og.weight("gate", DType::F16, {64, 24, 1, 1}), x);
    const TensorId out = g.swiglu(gate, og.input("other", DType::F32, {24, 2, 1, 1}));
    expect_vulkan_runs(g, {"matmul*2"});
    check_ops(og, {up, out}, matmul_tolerance(DType::F16), "swiglu of one projection");
}

}  // namespace
}  // namespace kiln::testing
