#pragma once
// Runs the `kiln` command in-process and captures what it prints.
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"

namespace kiln::testing {

struct KilnResult {
    int status;
    std::string out, err;
};

inline KilnResult run_kiln_capture(const std::vector<std::string>& argv) {
    std::ostringstream out, err;
    const int status = run_kiln(argv, out, err);
    return {status, out.str(), err.str()};
}

}  // namespace kiln::testing
