#include "models/quantize/quantize_model.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <system_error>

#include "graph/error.h"
#include "graph/quant/quantize.h"
#include "models/gguf/gguf_writer.h"

namespace kiln {
namespace {

// Weight matrices of these dtypes can be dequantized and quantized again; i32 holds integers.
bool convertible(DType t) { return info(t).computable && t != DType::I32; }

uint32_t count_layers(const GgufFile& in) {
    uint32_t n = 0;
    for (const GgufTensorInfo& t : in.tensors()) {
        std::string_view name = t.name;
        if (!name.starts_with("blk.")) continue;
        name.remove_prefix(4);
        uint32_t layer = 0;
        const char* end = name.data();
        while (end < name.data() + name.size() && *end >= '0' && *end <= '9') {
            layer = layer * 10 + static_cast<uint32_t>(*end - '0');
            ++end;
            if (layer > (1u << 20)) break;  // not a layer index anyone writes
        }
        if (end != name.data()) n = std::max(n, layer + 1);
    }
    return n;
}

std::string type_list(const std::set<DType>& types) {
    std::string s;
    for (DType t : types) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t));
    return s;
}

// Every row of `t` (bytes `src`) converted to `to` in `dst`, rows split across threads.
void convert_rows(const GgufTensorInfo& t, std::span<const uint8_t> src, DType to, std::span<uint8_t> dst,
                  unsigned threads) {
    const uint64_t cols = t.dims[0];
    const uint64_t rows = t.n_elements / cols;
    const uint64_t src_row = *row_bytes(t.type, cols), dst_row = *row_bytes(to, cols);
    parallel_rows(rows, threads, [&](uint64_t begin, uint64_t end) {
        std::vector<float> x(cols);
        for (uint64_t r = begin; r < end; ++r) {
            dequantize_row(t.type, src.data() + r * src_row, x.data(), static_cast<int64_t>(cols));
            quantize_row(to, x.data(), dst.data() + r * dst_row, static_cast<int64_t>(cols));
        }
    });
}

}  // namespace

size_t QuantizePlan::fallbacks() const {
    return static_cast<size_t>(std::count_if(tensors.begin(), tensors.end(),
                                             [](const PlannedTensor& p) { return p.choice.fallback(); }));
}

size_t QuantizePlan::unconvertible() const {
    return static_cast<size_t>(
        std::count_if(tensors.begin(), tensors.end(), [](const PlannedTensor& p) { return p.unconvertible; }));
}

size_t QuantizePlan::requantized() const {
    return static_cast<size_t>(std::count_if(tensors.begin(), tensors.end(), [](const PlannedTensor& p) {
        return !p.copied() && info(p.tensor->type).quantized && info(p.out_type()).quantized;
    }));
}

QuantizePlan plan_quantization(const GgufFile& in, const QuantMix& mix) {
    QuantizePlan plan;
    plan.mix = &mix;
    plan.n_layer = count_layers(in);
    plan.tied_output = in.find_tensor("output.weight") == nullptr;
    for (const GgufTensorInfo& t : in.tensors()) {
        TensorChoice c = choose_tensor_type(mix, {t.name, t.type, t.dims}, plan.n_layer, plan.tied_output);
        const bool unconvertible = c.quantize && !convertible(t.type);
        plan.tensors.push_back({&t, unconvertible ? TensorChoice{} : c, unconvertible});
    }
    return plan;
}

void check_quantize_paths(const std::filesystem::path& in, const std::filesystem::path& out) {
    std::error_code ec;
    if (std::filesystem::exists(out, ec)) {
        if (std::filesystem::equivalent(in, out, ec)) {
            throw Error(out.string() + ": is the input file; write the quantized model elsewhere");
        }
        if (!std::filesystem::is_regular_file(out, ec)) throw Error(out.string() + ": exists and is not a regular file");
    }
    // Creating the writer's temporary file now finds a missing or read-only directory before
    // any tensor is converted (the writer itself would only say so at the end).
    std::filesystem::path partial = out;
    partial += ".partial";
    std::FILE* f = std::fopen(partial.c_str(), "wb");
    if (!f) throw Error(out.string() + ": cannot write: " + std::strerror(errno));
    std::fclose(f);
    std::filesystem::remove(partial, ec);
}

QuantizeSummary write_quantized(const GgufFile& in, const QuantizePlan& plan, const std::filesystem::path& out,
                                const QuantizeOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    QuantizeSummary s;
    GgufWriter w;
    for (const GgufKeyValue& kv : in.metadata()) w.set(kv.key, kv.value);
    w.set("general.file_type", plan.mix->file_type);
    w.set("general.quantization_version", uint32_t{2});

    uint64_t total = 0;
    for (const PlannedTensor& p : plan.tensors) total += p.tensor->n_bytes;
    size_t done = 0;
    uint64_t bytes_done = 0;
    for (const PlannedTensor& p : plan.tensors) {
        const GgufTensorInfo& t = *p.tensor;
        const DType to = p.out_type();
        ++s.tensors_per_type[to];
        if (p.choice.fallback()) {
            ++s.fallbacks[{p.choice.wanted, p.choice.type}];
            ++s.n_fallbacks;
        }
        w.add_tensor(t.name, to, t.dims, [&, to](std::span<uint8_t> dst) {
            const std::span<const uint8_t> src = in.tensor_data(t);
            if (p.copied()) {
                std::memcpy(dst.data(), src.data(), src.size());
            } else {
                convert_rows(t, src, to, dst, o.threads);
            }
            ++done;
            bytes_done += t.n_bytes;
            if (o.progress) o.progress({done, plan.tensors.size(), bytes_done, total, t.name});
        });
    }
    w.write(out);
    s.in_bytes = in.file_size();
    s.out_bytes = std::filesystem::file_size(out);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return s;
}

std::vector<std::string> quantize_notices(const QuantizePlan& plan) {
    std::set<DType> requant, kept;
    for (const PlannedTensor& p : plan.tensors) {
        if (!p.copied() && info(p.tensor->type).quantized && info(p.out_type()).quantized) requant.insert(p.tensor->type);
        if (p.unconvertible) kept.insert(p.tensor->type);
    }
    std::vector<std::string> notes;
    if (!requant.empty()) {
        notes.push_back(std::to_string(plan.requantized()) + " tensors are already quantized (" + type_list(requant) +
                        "); quantizing them again adds error (start from an f16/bf16/f32 model when you can)");
    }
    if (!kept.empty()) {
        notes.push_back(std::to_string(plan.unconvertible()) + " weight matrices are kept as stored (" +
                        type_list(kept) + "): kiln cannot convert that dtype");
    }
    return notes;
}

QuantizeSummary quantize_model(const std::filesystem::path& in_path, const std::filesystem::path& out,
                               const QuantMix& mix, const QuantizeOptions& o) {
    const GgufFile in = GgufFile::open(in_path);
    check_quantize_paths(in_path, out);
    const QuantizePlan plan = plan_quantization(in, mix);
    if (o.notice) {
        for (const std::string& line : quantize_notices(plan)) o.notice(line);
    }
    return write_quantized(in, plan, out, o);
}

}  // namespace kiln
