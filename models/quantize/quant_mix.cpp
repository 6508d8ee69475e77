#include "models/quantize/quant_mix.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "graph/error.h"

namespace kiln {
namespace {

using enum DType;
using B = BoostLayers;

// name, file_type, base, output, attn_v boost, ffn_down boost, boosted layers.
// Float and Q8_0 mixes are uniform; the 4/5-bit legacy types keep the output head at Q6_K,
// which costs little (one matrix) and guards the logits. Among K mixes, _S boosts the edge
// layers, _M also every third layer between, _L every layer.
const std::vector<QuantMix> kMixes = {
    {"F32", 0, F32, F32, F32, F32, B::None},
    {"F16", 1, F16, F16, F16, F16, B::None},
    {"BF16", 32, BF16, BF16, BF16, BF16, B::None},
    {"Q8_0", 7, Q8_0, Q8_0, Q8_0, Q8_0, B::None},
    {"Q4_0", 2, Q4_0, Q6_K, Q4_0, Q4_0, B::None},
    {"Q4_1", 3, Q4_1, Q6_K, Q4_1, Q4_1, B::None},
    {"Q5_0", 8, Q5_0, Q6_K, Q5_0, Q5_0, B::None},
    {"Q5_1", 9, Q5_1, Q6_K, Q5_1, Q5_1, B::None},
    {"IQ4_NL", 25, IQ4_NL, Q6_K, IQ4_NL, IQ4_NL, B::None},
    {"Q2_K", 10, Q2_K, Q6_K, Q4_K, Q3_K, B::EdgesAndThirds},
    {"Q3_K_S", 11, Q3_K, Q6_K, Q4_K, Q4_K, B::Edges},
    {"Q3_K_M", 12, Q3_K, Q6_K, Q5_K, Q4_K, B::EdgesAndThirds},
    {"Q3_K_L", 13, Q3_K, Q6_K, Q5_K, Q5_K, B::All},
    {"Q4_K_S", 14, Q4_K, Q6_K, Q5_K, Q5_K, B::Edges},
    {"Q4_K_M", 15, Q4_K, Q6_K, Q6_K, Q6_K, B::EdgesAndThirds},
    {"Q5_K_S", 16, Q5_K, Q6_K, Q6_K, Q6_K, B::Edges},
    {"Q5_K_M", 17, Q5_K, Q6_K, Q6_K, Q6_K, B::EdgesAndThirds},
    {"Q6_K", 18, Q6_K, Q6_K, Q6_K, Q6_K, B::None},
};

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

// Dimensions not counting trailing 1s, as ggml counts them: [n, 1] is a vector.
size_t effective_dims(const std::vector<uint64_t>& dims) {
    size_t n = dims.size();
    while (n > 1 && dims[n - 1] == 1) --n;
    return n;
}

// "blk.12.attn_v.weight" -> layer 12, role "attn_v"; nullopt for tensors outside the blocks.
struct BlockTensor {
    uint32_t layer;
    std::string_view role;
};
std::optional<BlockTensor> block_tensor(std::string_view name) {
    constexpr std::string_view prefix = "blk.";
    if (!name.starts_with(prefix)) return std::nullopt;
    name.remove_prefix(prefix.size());
    uint32_t layer = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
    if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '.') return std::nullopt;
    std::string_view rest(end + 1, name.data() + name.size() - (end + 1));
    return BlockTensor{layer, rest.substr(0, rest.find('.'))};
}

}  // namespace

const std::vector<QuantMix>& quant_mixes() { return kMixes; }

std::string quant_mix_names() {
    std::string s;
    for (const QuantMix& m : kMixes) s += (s.empty() ? "" : ", ") + std::string(m.name);
    return s;
}

const QuantMix* find_quant_mix(std::string_view name) {
    for (const QuantMix& m : kMixes) {
        if (iequal(m.name, name)) return &m;
    }
    return nullptr;
}

const QuantMix& quant_mix(std::string_view name) {
    if (const QuantMix* m = find_quant_mix(name)) return *m;
    throw Error("unknown quantization type '" + std::string(name) + "' (known: " + quant_mix_names() + ")");
}

bool boosted_layer(BoostLayers which, uint32_t layer, uint32_t n_layer) {
    const uint32_t edge = (n_layer + 7) / 8;  // an eighth, rounded up: at least one layer
    const bool at_edge = layer < edge || layer + edge >= n_layer;
    switch (which) {
        case BoostLayers::None:
            return false;
        case BoostLayers::Edges:
            return at_edge;
        case BoostLayers::EdgesAndThirds:
            return at_edge || (layer - edge) % 3 == 2;
        case BoostLayers::All:
            return true;
    }
    return false;
}

DType fitting_type(DType wanted, uint64_t row_length) {
    auto fits = [&](DType t) { return row_length > 0 && row_length % info(t).block_size == 0; };
    if (fits(wanted)) return wanted;
    DType next = F16;
    switch (wanted) {
        case Q4_K: next = Q5_0; break;
        case Q5_K: next = Q5_1; break;
        case Q6_K: next = Q8_0; break;
        case Q2_K:
        case Q3_K: next = IQ4_NL; break;
        default: break;
    }
    return fits(next) ? next : F16;
}

TensorChoice choose_tensor_type(const QuantMix& mix, const TensorFacts& t, uint32_t n_layer, bool tied_output) {
    TensorChoice c;
    // Vectors (norms, biases) are tiny and sensitive; rope_freqs are factors, not weights.
    if (effective_dims(t.dims) < 2 || t.name.starts_with("rope_freqs")) return c;
    // A mixture of experts' router stays f32, as llama-quantize keeps it: a token's choice of
    // experts turns on small differences of its logits.
    if (auto b = block_tensor(t.name); b && b->role.starts_with("ffn_gate_inp")) return c;
    c.quantize = true;
    c.wanted = mix.base;
    if (t.name == "output.weight" || (tied_output && t.name == "token_embd.weight")) {
        c.wanted = mix.output;
    } else if (auto b = block_tensor(t.name); b && boosted_layer(mix.boost_layers, b->layer, n_layer)) {
        if (b->role == "attn_v") c.wanted = mix.boost_attn_v;
        if (b->role.starts_with("ffn_down")) c.wanted = mix.boost_ffn_down;
    }
    c.type = fitting_type(c.wanted, t.dims[0]);
    return c;
}

}  // namespace kiln
