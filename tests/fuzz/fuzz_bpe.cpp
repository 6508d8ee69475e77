// Byte-level BPE: fuzzed text through real vocabularies, one per kind of pre-tokenizer kiln
// implements (GPT-2, Llama 3, Qwen2, DeepSeek coder and LLM, Falcon, StarCoder). Input layout:
// tokenizer_fuzz.h.
#include "tokenizer_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<kiln::Tokenizer> tokenizers = kiln::fuzz::load_tokenizers(
        {"ggml-vocab-gpt-2.gguf", "vocab-llama-bpe.gguf", "vocab-qwen2.gguf", "ggml-vocab-deepseek-coder.gguf",
         "ggml-vocab-deepseek-llm.gguf", "ggml-vocab-falcon.gguf", "ggml-vocab-starcoder.gguf"});
    kiln::fuzz::fuzz_tokenizer_input(tokenizers, data, size);
    return 0;
}
