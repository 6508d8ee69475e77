#pragma once
// Command-line flags for kiln's subcommands: `--name value`, `--name=value`, short aliases
// (`-m`), boolean switches, and positionals. Unknown flags are errors naming the flag.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct FlagSpec {
    std::string name;        // "--model"
    std::string alias;       // "-m" or ""
    bool takes_value = true;
    std::string help;
};

class Args {
public:
    // Throws kiln::Error for unknown flags or a missing value.
    Args(const std::string& command, const std::vector<FlagSpec>& specs, const std::vector<std::string>& argv);

    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // Integer value of a flag, range-checked; throws kiln::Error naming the flag.
    std::optional<long long> get_int(const std::string& name, long long min, long long max) const;

private:
    std::string command_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positionals_;
};

// "  -m, --model VALUE   help" lines for a usage message.
std::string describe_flags(const std::vector<FlagSpec>& specs);

}  // namespace kiln
