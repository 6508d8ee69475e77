#pragma once
// Reading fields of a request's JSON body, for every route that takes one: each check throws
// ApiError (400) naming the field, so a client learns which field is wrong and why. Internal to
// apps/server (nlohmann::json in the interface).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/server/openai_json.h"

namespace kiln::server {

// The body as a JSON object; 400 invalid_json otherwise.
nlohmann::json parse_object_body(std::string_view body);
// 400 invalid_type: "'FIELD' must be EXPECTED".
ApiError wrong_type(const std::string& field, const char* expected);
// The field when present and not null.
const nlohmann::json* field(const nlohmann::json& body, const char* name);
// A finite number in [min, max], when present.
std::optional<double> number(const nlohmann::json& body, const char* name, double min, double max);
// An integer in [min, max] (5.0 counts as 5), when present.
std::optional<int64_t> integer(const nlohmann::json& body, const char* name, int64_t min, int64_t max);
// A boolean, when present.
std::optional<bool> boolean(const nlohmann::json& body, const char* name);
// The body as sent, for values whose objects must keep the key order the client wrote (a
// schema's properties order the output): parsed again on the first dump() and only then, so a
// request with many schemas pays for one extra parse, and one without pays nothing.
using JsonStep = std::variant<const char*, size_t>;
class BodyAsWritten {
public:
    explicit BodyAsWritten(std::string_view text) : text_(text) {}
    // The value at `path` (object keys and array indices), serialised, or `fallback` serialised
    // when the path does not lead there in that parse (duplicate keys).
    std::string dump(const std::vector<JsonStep>& path, const nlohmann::json& fallback);

private:
    std::string_view text_;
    std::optional<nlohmann::ordered_json> doc_;
};

// Serialised without ever throwing: invalid UTF-8 (a token's piece may be part of a
// character) is replaced.
std::string dump(const nlohmann::json& j);

}  // namespace kiln::server
