// SentencePiece: fuzzed text through real vocabularies (LLaMA's with byte fallback, Phi-3's
// with its whitespace-stripping special tokens, Baichuan's). Input layout: tokenizer_fuzz.h.
#include "tokenizer_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<kiln::Tokenizer> tokenizers = kiln::fuzz::load_tokenizers(
        {"ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-baichuan.gguf"});
    kiln::fuzz::fuzz_tokenizer_input(tokenizers, data, size);
    return 0;
}
