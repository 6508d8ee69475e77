#pragma once
// Reads llama.cpp's tokenizer goldens: `<vocab>.inp` holds test strings, each followed by
// "\n__ggml_vocab_test__\n"; `<vocab>.out` holds one line of space-separated ids per string.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::testing {

struct GoldenCase {
    size_t index = 0;
    std::string text;
    std::vector<int32_t> ids;
};

inline std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Reads `<golden>.inp` / `<golden>.out`; `golden` is usually the vocab's .gguf path, but the
// rebuilt Qwen2 / Llama 3 vocabularies use the goldens of llama.cpp's ggml-vocab-*.gguf names.
inline std::vector<GoldenCase> read_golden_cases(const std::filesystem::path& golden) {
    const std::filesystem::path& vocab = golden;
    const std::string inp = read_whole_file(vocab.string() + ".inp");
    const std::string out = read_whole_file(vocab.string() + ".out");
    const std::string separator = "\n__ggml_vocab_test__\n";
    std::vector<GoldenCase> cases;
    // The file ends with a separator, so the empty piece after it is not a case.
    for (size_t at = 0; at < inp.size();) {
        const size_t end = inp.find(separator, at);
        if (end == std::string::npos) throw std::runtime_error(vocab.string() + ".inp: text after the last separator");
        cases.push_back({cases.size(), inp.substr(at, end - at), {}});
        at = end + separator.size();
    }
    std::istringstream lines(out);
    std::string line;
    for (GoldenCase& c : cases) {
        if (!std::getline(lines, line)) throw std::runtime_error(vocab.string() + ".out: fewer lines than cases");
        std::istringstream ids(line);
        for (int32_t id; ids >> id;) c.ids.push_back(id);
    }
    return cases;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) s += ' ';
        s += std::to_string(ids[i]);
    }
    return s + "]";
}

// The text with control characters escaped, so failures print on one line.
inline std::string quoted(const std::string& text) {
    std::string s = "\"";
    for (char c : text) {
        if (c == '\n') s += "\\n";
        else if (c == '\t') s += "\\t";
        else if (c == '\r') s += "\\r";
        else if (c == '"') s += "\\\"";
        else s += c;
    }
    return s + "\"";
}

}  // namespace kiln::testing
