// Writes the committed seed corpora (tests/fuzz/corpus/<harness>/): small inputs that reach
// deep into each harness from the start, so a 20-second smoke run tests more than the input
// parsers' first bytes. GGUF seeds are written by kiln's own writer (a tiny llama model with a
// SentencePiece vocabulary, vocab-only BPE files, every scalar metadata type); the others are short
// snippets in the style of ../shared (templates' idioms, tokenizer test strings, OpenAI
// requests, HTTP requests). Run `fuzz_write_seeds DIR` and commit what changed.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "models/gguf/gguf_writer.h"
#include "models/synth/synthetic.h"

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
}

void write_gguf_seeds(const fs::path& dir) {
    fs::create_directories(dir);
    // A whole model small enough for Model::load on every mutation: 1 layer, 8 wide, 24 tokens.
    kiln::SynthOptions o;
    o.shape = *kiln::synth_shape("tiny");
    o.shape.n_embd = 8;
    o.shape.n_layer = 1;
    o.shape.n_head = 2;
    o.shape.n_head_kv = 1;
    o.shape.n_ff = 16;
    o.shape.n_vocab = 24;
    o.shape.context = 64;
    o.dtype = kiln::DType::F32;
    o.threads = 1;
    kiln::write_synthetic_model(dir / "llama-1layer.seed", o);

    const std::string g = "\xC4\xA0";  // Ġ, GPT-2's space
    kiln::GgufWriter bpe;
    bpe.set("general.architecture", std::string("qwen2"));
    bpe.set("tokenizer.ggml.model", std::string("gpt2"));
    bpe.set("tokenizer.ggml.pre", std::string("qwen2"));
    bpe.set("tokenizer.ggml.tokens", kiln::gguf_string_array({"a", "b", "c", g, "ab", "abc", g + "a", "<|im_end|>", "<x>"}));
    bpe.set("tokenizer.ggml.token_type", kiln::gguf_i32_array({1, 1, 1, 1, 1, 1, 1, 3, 4}));
    bpe.set("tokenizer.ggml.merges", kiln::gguf_string_array({"a b", "ab c", g + " a"}));
    bpe.set("tokenizer.ggml.eos_token_id", uint32_t{7});
    bpe.set("tokenizer.ggml.add_bos_token", false);
    bpe.set("tokenizer.chat_template", std::string("{% for m in messages %}<|im_start|>{{ m.role }}\n"
                                                   "{{ m.content }}<|im_end|>\n{% endfor %}"));
    kiln::GgufWriter spm;
    spm.set("general.architecture", std::string("llama"));
    spm.set("tokenizer.ggml.model", std::string("llama"));
    spm.set("tokenizer.ggml.tokens", kiln::gguf_string_array({"<unk>", "<s>", "</s>", "<0x0A>", "<0xE2>", "\xE2\x96\x81",
                                                              "\xE2\x96\x81h", "i", "hi", "\xE2\x96\x81hi"}));
    spm.set("tokenizer.ggml.scores", kiln::gguf_f32_array({0, 0, 0, 0, 0, -1, -2, -3, -4, -5}));
    spm.set("tokenizer.ggml.token_type", kiln::gguf_i32_array({2, 3, 3, 6, 6, 1, 1, 1, 1, 1}));
    spm.set("tokenizer.ggml.bos_token_id", uint32_t{1});
    spm.set("tokenizer.ggml.eos_token_id", uint32_t{2});
    spm.set("tokenizer.ggml.unknown_token_id", uint32_t{0});
    spm.set("tokenizer.ggml.add_space_prefix", true);
    // One key of every scalar type, and tensors of a quantized and a half type.
    kiln::GgufWriter types;
    types.set("general.architecture", std::string("llama"));
    types.set("general.alignment", uint32_t{64});
    types.set("t.u8", uint8_t{1});
    types.set("t.i8", int8_t{-1});
    types.set("t.u16", uint16_t{2});
    types.set("t.i16", int16_t{-2});
    types.set("t.i32", int32_t{-3});
    types.set("t.f32", 0.5f);
    types.set("t.u64", uint64_t{4});
    types.set("t.i64", int64_t{-4});
    types.set("t.f64", 0.25);
    types.set("t.strings", kiln::gguf_string_array({"x", "yz"}));
    types.add_tensor("q", kiln::DType::Q8_0, {32, 1}, std::vector<uint8_t>(34, 0));
    types.add_tensor("f", kiln::DType::F16, {4}, std::vector<uint8_t>(8, 0));
    bpe.write(dir / "bpe-vocab.seed");
    spm.write(dir / "spm-vocab.seed");
    types.write(dir / "all-types.seed");
}

// Tokenizer inputs: a flags byte (tokenizer_fuzz.h), then text in the spirit of llama.cpp's
// tokenizer tests (../shared/models/*.inp): spaces, digits, accents, emoji, code, specials.
void write_tokenizer_seeds(const fs::path& dir) {
    const std::vector<std::string> texts = {
        "Hello world", " Hello World!", "   leading spaces\n\n\ttabs", "3333333 1.5e-3 100,000",
        "caf\xC3\xA9 na\xC3\xAFve \xE4\xBD\xA0\xE5\xA5\xBD", "\xF0\x9F\xA6\x99 llama \xF0\x9F\x98\x80!",
        "int main() { return x->y[0]; }", "I'm sure you've seen it's 'quoted'", "<s>[INST] hi [/INST]</s>",
        "<|im_start|>user\nhi<|im_end|>", "<|endoftext|><|end|> <|begin_of_text|>", "\xFF\xFE broken \xC3 utf8",
    };
    int n = 0;
    for (const std::string& t : texts) {
        const char flags = static_cast<char>(n % 16 | (n % 3 == 0 ? 0x10 : 0) | (n % 2 ? 0x20 : 0));
        write_file(dir / ("text-" + std::to_string(n++)), std::string(1, flags) + t);
    }
    // Token ids to decode: bytes tokens, specials, and ids past the end.
    std::string ids(1, '\x40');
    for (uint32_t id : {1u, 2u, 3u, 13u, 259u, 0xF0u + 3, 0x9Fu + 3, 0xA6u + 3, 1000u, 29871u, 31999u, 70000u}) {
        ids.append(reinterpret_cast<const char*>(&id), 4);
    }
    write_file(dir / "ids", ids);
}

// Template snippets using the idioms of ../shared/templates, each followed by NUL, a flags
// byte and a conversation (fuzz_chat_template.cpp).
void write_chat_seeds(const fs::path& dir) {
    const std::string conversation = std::string("\0\x0b", 2) + std::string("system\0Be brief.\0user\0Hi\0assistant\0Hello!\0user\0Bye", 50);
    const std::vector<std::string> templates = {
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}"
        "{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}"
        "{{ system_message }}{% for m in messages %}{{ m.role|upper }}: {{ m.content }}{% endfor %}",
        "{%- set ns = namespace(found=false, n=0) %}{%- for m in messages[::-1] %}{%- if m.role == 'user' and not ns.found %}"
        "{%- set ns.found = true %}{%- set ns.n = loop.index0 %}{%- endif %}{%- endfor %}{{ ns.n }} {{ ns.found }}",
        "{% macro render(m) %}[{{ m.role }}] {{ m.content | default('none', true) }}{% endmacro %}"
        "{% for m in messages %}{{ render(m) }}{% if not loop.last %}, {% endif %}{% endfor %}",
        "{% if tools %}{{ tools | tojson(indent=2) }}{% endif %}{% for m in messages %}{% if m.tool_calls is defined %}"
        "{% for c in m.tool_calls %}{{ c.function.name }}({{ c.function.arguments | tojson }}){% endfor %}{% endif %}{% endfor %}",
        "{{ strftime_now('%d %b %Y') }}{% if enable_thinking is defined and enable_thinking is false %}/no_think{% endif %}",
        "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% endfor %}",
        "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(' | ') }}"
        "{{ (messages | length) * 2 }} {{ 'abc'.startswith('a') }} {{ 'a,b'.split(',') }} {{ '%s-%d' % ('x', 3) }}",
        "{% set content = messages[-1].content %}{% if '</think>' in content %}"
        "{{ content.split('</think>')[-1].lstrip('\\n') }}{% endif %}{{ content[:3] ~ '...' }}",
        "{%- for m in messages %}{{- '<start_of_turn>' + ('model' if m.role == 'assistant' else m.role) + '\\n' "
        "+ m.content | trim + '<end_of_turn>\\n' -}}{%- endfor %}{{ {'a': 1, 'b': [1, 2.5, none, true]} | tojson }}",
        "{% for k, v in {'x': 1, 'y': 2} | dictsort %}{{ k }}={{ v }}{% endfor %}{{ range(3) | list }}{{ '%.2f' | format(1.5) }}",
    };
    int n = 0;
    for (const std::string& t : templates) write_file(dir / ("template-" + std::to_string(n++)), t + conversation);
}

const std::vector<std::string>& request_bodies() {
    static const std::vector<std::string> bodies = {
        R"({"model":"tiny","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":4})",
        R"({"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"stream":true,"temperature":0.7,"top_p":0.9,"seed":1})",
        R"({"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"42"}],"stop":["\n","END"],"max_completion_tokens":2})",
        R"({"prompt":"Once upon a time","max_tokens":3,"stop":"x","top_k":40,"min_p":0.05,"repeat_penalty":1.1,"presence_penalty":0.5,"frequency_penalty":-0.5,"n":1})",
        R"({"prompt":["Hello"],"stream":false,"logprobs":null,"user":"u","max_tokens":1e3})",
        R"({"messages":[{"role":"user","content":"\u00e9\ud83e\udd99"}],"temperature":-1})",
        R"([1,2,3])",
    };
    return bodies;
}

void write_openai_seeds(const fs::path& dir) {
    int n = 0;
    for (const std::string& b : request_bodies()) write_file(dir / ("request-" + std::to_string(n++)), b);
}

// Raw requests as a client sends them, with the harness's API key (fuzz_http.cpp).
void write_http_seeds(const fs::path& dir) {
    const std::string key = "Authorization: Bearer fuzz-key\r\n";
    auto post = [&](const std::string& path, const std::string& body, const std::string& extra) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + key + "Content-Type: application/json\r\n" + extra +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    const std::string chunked_body = request_bodies()[3];
    char size_hex[16];
    std::snprintf(size_hex, sizeof(size_hex), "%zx", chunked_body.size());
    const std::vector<std::string> requests = {
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\n" + key + "Connection: keep-alive\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\nAccept-Encoding: gzip, br\r\n\r\n",
        post("/v1/chat/completions", request_bodies()[0], ""),
        post("/v1/chat/completions", request_bodies()[1], "Accept-Encoding: gzip\r\n"),
        post("/v1/completions", request_bodies()[3], "Connection: close\r\n"),
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\n" + key + "Transfer-Encoding: chunked\r\n\r\n" + size_hex +
            "\r\n" + chunked_body + "\r\n0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer wrong\r\nContent-Length: 2\r\n\r\n{}",
        "OPTIONS /v1/chat/completions HTTP/1.1\r\nOrigin: http://a\r\nAccess-Control-Request-Method: POST\r\n\r\n",
        "DELETE /v1/models HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "GET /health?x=%zz&y HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n",
    };
    int n = 0;
    for (const std::string& r : requests) write_file(dir / ("request-" + std::to_string(n++)), r);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_write_seeds CORPUS_DIR (tests/fuzz/corpus)\n";
        return 2;
    }
    const fs::path root = argv[1];
    write_gguf_seeds(root / "gguf");
    write_tokenizer_seeds(root / "spm");
    write_tokenizer_seeds(root / "bpe");
    write_chat_seeds(root / "chat_template");
    write_openai_seeds(root / "openai_request");
    write_http_seeds(root / "http");
    return 0;
}
