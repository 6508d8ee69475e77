#include "apps/args.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "graph/error.h"

namespace kiln {
namespace {

std::vector<std::string> aliases(const FlagSpec& s) {
    std::istringstream words(s.alias);
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    return out;
}

}  // namespace

Args::Args(const std::string& command, const std::vector<FlagSpec>& specs, const std::vector<std::string>& argv)
    : command_(command) {
    auto find_spec = [&](const std::string& flag) -> const FlagSpec* {
        for (const FlagSpec& s : specs) {
            if (flag == s.name) return &s;
            for (const std::string& a : aliases(s)) {
                if (flag == a) return &s;
            }
        }
        return nullptr;
    };
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() < 2 || a[0] != '-' || a == "--") {
            positionals_.push_back(a);
            continue;
        }
        std::string flag = a;
        std::optional<std::string> inline_value;
        if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
            flag = a.substr(0, eq);
            inline_value = a.substr(eq + 1);
        }
        const FlagSpec* spec = find_spec(flag);
        if (!spec) throw Error("kiln " + command_ + ": unknown option '" + flag + "' (see kiln " + command_ + " --help)");
        if (!spec->takes_value) {
            if (inline_value) throw Error("kiln " + command_ + ": option '" + flag + "' takes no value");
            values_.insert_or_assign(spec->name, std::string(1, '1'));  // (assigning a literal trips GCC 12 -Wrestrict)
        } else if (inline_value) {
            values_[spec->name] = *inline_value;
        } else {
            if (i + 1 >= argv.size()) throw Error("kiln " + command_ + ": option '" + flag + "' needs a value");
            values_[spec->name] = argv[++i];
        }
        if (spec->takes_value) all_values_[spec->name].push_back(values_[spec->name]);
    }
}

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
    auto it = all_values_.find(name);
    return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<long long> Args::get_int(const std::string& name, long long min, long long max) const {
    auto v = get(name);
    if (!v) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno == ERANGE || x < min || x > max) {
        throw Error("kiln " + command_ + ": option '" + name + "': '" + *v + "' is not an integer in [" +
                    std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return x;
}

std::string describe_flags(const std::vector<FlagSpec>& specs) {
    std::string out;
    for (const FlagSpec& s : specs) {
        std::string left = s.alias.empty() ? "      " : "  ";
        for (const std::string& a : aliases(s)) left += a + ", ";
        left += s.name;
        if (s.takes_value) left += " VALUE";
        if (left.size() < 28) left.resize(28, ' ');
        out += left + " " + s.help + "\n";
    }
    return out;
}

}  // namespace kiln
