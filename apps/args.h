#pragma once
// Command-line flags for kiln's subcommands: `--name value`, `--name=value`, short aliases
// (`-m`), boolean switches, and positionals. Unknown flags are errors naming the flag. A flag
// given twice keeps its last value for get(); get_all() has every value (repeatable flags).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct FlagSpec {
    std::string name;        // "--model"
    std::string alias;       // "-m", "" or several separated by spaces ("-ngl --n-gpu-layers")
    bool takes_value = true;
    std::string help;
};

class Args {
public:
    // Throws kiln::Error for unknown flags or a missing value.
    Args(const std::string& command, const std::vector<FlagSpec>& specs, const std::vector<std::string>& argv);

    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
    // Every value given for the flag, in order (none: empty).
    std::vector<std::string> get_all(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // Integer value of a flag, range-checked; throws kiln::Error naming the flag.
    std::optional<long long> get_int(const std::string& name, long long min, long long max) const;

private:
    std::string command_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> all_values_;
    std::vector<std::string> positionals_;
};

// "  -m, --model VALUE   help" lines for a usage message (every alias listed).
std::string describe_flags(const std::vector<FlagSpec>& specs);

}  // namespace kiln
