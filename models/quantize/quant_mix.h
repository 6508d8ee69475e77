#pragma once
// The quantization mixes of `kiln quantize` (F32 ... Q6_K, with llama.cpp's mix names such as
// Q4_K_M) and the per-tensor type decision: which tensors are quantized, which get more bits,
// and which type a tensor falls back to when its rows do not fit the chosen type's blocks.
// The recipe is kiln's own; models/quantize/README.md states it in full.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dtype.h"

namespace kiln {

// Layers whose attn_v and ffn_down get `boost_*` instead of `base`.
enum class BoostLayers {
    None,
    Edges,           // the first and last eighth of the layers (at least one each)
    EdgesAndThirds,  // those, plus every third layer between them
    All,
};

struct QuantMix {
    std::string_view name;  // "Q4_K_M"
    uint32_t file_type;     // llama.cpp's general.file_type for the mix
    DType base;             // every other weight matrix
    DType output;           // output.weight, or token_embd.weight when the head is tied to it
    DType boost_attn_v;
    DType boost_ffn_down;
    BoostLayers boost_layers;
};

// The mixes in the order `kiln quantize --help` lists them.
const std::vector<QuantMix>& quant_mixes();
// Case-insensitive; throws kiln::Error listing the known names when `name` is not one.
const QuantMix& quant_mix(std::string_view name);
// The same, nullptr when `name` is not a mix.
const QuantMix* find_quant_mix(std::string_view name);
// "F32, F16, BF16, Q8_0, ..."
std::string quant_mix_names();

// True for layer `layer` of `n_layer` when `which` says its attn_v / ffn_down get more bits.
bool boosted_layer(BoostLayers which, uint32_t layer, uint32_t n_layer);

// What one input tensor becomes.
struct TensorChoice {
    bool quantize = false;  // false: stored as it is (1-D tensors, rope_freqs)
    DType wanted{};         // what the mix asks for (when quantize)
    DType type{};           // what is written: `wanted` or its fallback
    bool fallback() const { return quantize && type != wanted; }
};

struct TensorFacts {
    std::string_view name;
    DType type;                   // as stored in the input
    std::vector<uint64_t> dims;   // dims[0] is the row length
};

// `n_layer` is the number of blocks (blk.N.*); `tied_output` is true when the model has no
// output.weight, so token_embd.weight is also the output head.
TensorChoice choose_tensor_type(const QuantMix& mix, const TensorFacts& t, uint32_t n_layer, bool tied_output);

// The type written for rows of `row_length` elements when `wanted`'s blocks do not divide it:
// Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K→IQ4_NL, and F16 when no 32-element block fits.
// Returns `wanted` itself when it fits.
DType fitting_type(DType wanted, uint64_t row_length);

}  // namespace kiln
