#pragma once
// The one error type kiln throws for bad input (files, flags, requests). Its message is a single
// line naming the file, key or tensor at fault; apps print it and exit with status 1.
// Hot paths (kernels, per-token work) never throw.
#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace kiln
