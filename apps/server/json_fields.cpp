#include "apps/server/json_fields.h"

#include <cmath>

namespace kiln::server {

using nlohmann::json;

json parse_object_body(std::string_view body_text) {
    json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw bad_request("invalid_json", "the request body is not valid JSON");
    if (!body.is_object()) throw bad_request("invalid_json", "the request body must be a JSON object");
    return body;
}

ApiError wrong_type(const std::string& field, const char* expected) {
    return ApiError(400, "invalid_request_error", "invalid_type", "'" + field + "' must be " + expected);
}

const json* field(const json& body, const char* name) {
    auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& body, const char* name, double min, double max) {
    const json* v = field(body, name);
    if (!v) return std::nullopt;
    if (!v->is_number()) throw wrong_type(name, "a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
        throw bad_request("invalid_value", "'" + std::string(name) + "' must be between " + json(min).dump() +
                                               " and " + json(max).dump());
    }
    return d;
}

std::optional<int64_t> integer(const json& body, const char* name, int64_t min, int64_t max) {
    const json* v = field(body, name);
    if (!v) return std::nullopt;
    // 5.0 is accepted as 5, as JSON does not tell integers from floats.
    if (!v->is_number() || (v->is_number_float() && std::trunc(v->get<double>()) != v->get<double>())) {
        throw wrong_type(name, "an integer");
    }
    const double d = v->get<double>();
    // +-9.2e18: a float outside int64's range cannot be converted (and clamps in the check).
    if (d < static_cast<double>(min) || d > static_cast<double>(max) || std::fabs(d) > 9.2e18) {
        throw bad_request("invalid_value", "'" + std::string(name) + "' must be between " + std::to_string(min) +
                                               " and " + std::to_string(max));
    }
    return v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->get<int64_t>();
}

std::optional<bool> boolean(const json& body, const char* name) {
    const json* v = field(body, name);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) throw wrong_type(name, "a boolean");
    return v->get<bool>();
}

std::string BodyAsWritten::dump(const std::vector<JsonStep>& path, const json& fallback) {
    if (!doc_) doc_ = nlohmann::ordered_json::parse(text_, nullptr, false);
    const nlohmann::ordered_json* at = &*doc_;
    for (const JsonStep& step : path) {
        if (const auto* key = std::get_if<const char*>(&step)) {
            if (!at->is_object()) return server::dump(fallback);
            auto it = at->find(*key);
            if (it == at->end()) return server::dump(fallback);
            at = &*it;
        } else {
            const size_t i = std::get<size_t>(step);
            if (!at->is_array() || i >= at->size()) return server::dump(fallback);
            at = &(*at)[i];
        }
    }
    return at->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace kiln::server
