#pragma once
// The body of both tokenizer harnesses (fuzz_spm.cpp, fuzz_bpe.cpp): real vocabularies from
// ../shared/models loaded once, then per input:
//   byte 0, bits 0-3: which vocabulary (modulo their count)
//           bit 4: add_special    bit 5: parse_special
//           bit 6: the rest is token ids (4 bytes each, some past the vocabulary) to decode
//                  and stream, instead of text to encode
//   the rest: the text (or the ids).
// Checks: encoding yields ids inside the vocabulary; decoding and streaming never crash; the
// stream's output is whole UTF-8; an id outside the vocabulary is a one-line kiln::Error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "models/gguf/gguf_reader.h"
#include "models/tokenizer/token_stream.h"
#include "models/tokenizer/tokenizer.h"
#include "models/utf8.h"

namespace kiln::fuzz {

// Exits when a file is missing: a harness that silently fuzzes nothing would pass.
inline std::vector<Tokenizer> load_tokenizers(const std::vector<std::string>& files) {
    std::vector<Tokenizer> out;
    for (const std::string& name : files) {
        const std::filesystem::path path = shared_dir() / "models" / name;
        try {
            out.push_back(Tokenizer::from_gguf(GgufFile::open(path)));
        } catch (const Error& e) {
            std::fprintf(stderr, "%s (set KILN_SHARED to the shared/ folder)\n", e.what());
            std::exit(1);
        }
    }
    return out;
}

inline void stream_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, bool render_special) {
    TokenTextStream stream(tok, {.render_special = render_special, .strip_leading_space = false});
    std::string text;
    for (int32_t id : ids) {
        if (!attempt([&] { text += stream.push(id); })) continue;
    }
    text += stream.finish();
    if (utf8_first_invalid(text) != std::string::npos) {
        std::fprintf(stderr, "TokenTextStream returned invalid UTF-8\n");
        std::abort();
    }
}

inline void fuzz_tokenizer_input(const std::vector<Tokenizer>& tokenizers, const uint8_t* data, size_t size) {
    if (size == 0 || tokenizers.empty()) return;
    const Tokenizer& tok = tokenizers[(data[0] & 0x0f) % tokenizers.size()];
    const bool add_special = data[0] & 0x10;
    const bool parse_special = data[0] & 0x20;
    const bool as_ids = data[0] & 0x40;
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    std::vector<int32_t> ids;
    if (as_ids) {
        // Ids up to twice the vocabulary, so about half the decodes meet one it does not have.
        const uint32_t span = 2 * static_cast<uint32_t>(tok.vocab().size());
        for (size_t i = 0; i + 4 <= rest.size(); i += 4) {
            uint32_t v;
            std::memcpy(&v, rest.data() + i, 4);
            ids.push_back(static_cast<int32_t>(v % span));
        }
    } else {
        tok.encode(rest, add_special, parse_special, ids);
        for (int32_t id : ids) {
            if (!tok.vocab().contains(id)) {
                std::fprintf(stderr, "encode returned id %d outside the vocabulary\n", id);
                std::abort();
            }
        }
    }
    attempt([&] { (void)tok.decode(ids); });
    attempt([&] { (void)tok.decode(ids, {.render_special = true, .remove_special = true}); });
    stream_ids(tok, ids, parse_special);
}

}  // namespace kiln::fuzz
