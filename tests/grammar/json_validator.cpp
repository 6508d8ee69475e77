// The test-side JSON Schema validator (grammar_test_support.h).
#include <cmath>
#include <regex>
#include <set>

#include "grammar_test_support.h"

namespace kiln::testing {
namespace {

using nlohmann::json;

size_t code_points(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool has_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    return false;
}

bool format_ok(const std::string& f, const std::string& s) {
    static const std::regex date(R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))");
    static const std::regex time(R"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))");
    static const std::regex uuid(R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})");
    if (f == "date") {
        if (!std::regex_match(s, date)) return false;
        const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
        const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        const int days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return d <= days[m - 1];
    }
    if (f == "time") return std::regex_match(s, time);
    if (f == "date-time") {
        const size_t t = s.find('T');
        return t != std::string::npos && format_ok("date", s.substr(0, t)) && format_ok("time", s.substr(t + 1));
    }
    if (f == "uuid") return std::regex_match(s, uuid);
    return false;
}

}  // namespace

std::optional<std::string> json_schema_violation(const json& s, const json& v, const json& root) {
    if (s.is_boolean()) return s.get<bool>() ? std::nullopt : std::optional<std::string>("false schema");
    if (s.contains("$ref")) {
        const std::string r = s["$ref"];
        if (r == "#") return json_schema_violation(root, v, root);
        const size_t slash = r.rfind('/');
        const std::string defs = r.rfind("#/$defs/", 0) == 0 ? "$defs" : "definitions";
        return json_schema_violation(root[defs][r.substr(slash + 1)], v, root);
    }
    if (s.contains("const") && s["const"] != v) return "not the const " + s["const"].dump();
    if (s.contains("enum")) {
        bool found = false;
        for (const json& e : s["enum"]) found |= e == v;
        if (!found) return v.dump() + " not in the enum";
    }
    if (s.contains("anyOf") || s.contains("oneOf")) {
        const bool one = s.contains("oneOf");
        int ok = 0;
        for (const json& alt : s[one ? "oneOf" : "anyOf"]) ok += !json_schema_violation(alt, v, root);
        if (ok == 0 || (one && ok > 1)) return v.dump() + " matches " + std::to_string(ok) + " alternatives";
    }
    if (s.contains("allOf"))
        for (const json& alt : s["allOf"])
            if (auto e = json_schema_violation(alt, v, root)) return e;
    if (s.contains("type")) {
        bool ok = false;
        if (s["type"].is_array()) {
            for (const json& t : s["type"]) ok |= has_type(v, t);
        } else {
            ok = has_type(v, s["type"]);
        }
        if (!ok) return v.dump() + " is not of type " + s["type"].dump();
    }
    if (v.is_object()) {
        const json props = s.value("properties", json::object());
        for (const json& r : s.value("required", json::array()))
            if (!v.contains(r.get<std::string>())) return "missing required " + r.dump();
        for (const auto& [key, value] : v.items()) {
            if (props.contains(key)) {
                if (auto e = json_schema_violation(props[key], value, root)) return key + ": " + *e;
            } else if (s.contains("additionalProperties")) {
                const json& extra = s["additionalProperties"];
                if (extra.is_boolean() && !extra.get<bool>()) return "extra property " + key;
                if (auto e = json_schema_violation(extra, value, root)) return key + ": " + *e;
            }
        }
    }
    if (v.is_array()) {
        if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return "too few items";
        if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return "too many items";
        if (s.contains("items"))
            for (const json& item : v)
                if (auto e = json_schema_violation(s["items"], item, root)) return "item: " + *e;
    }
    if (v.is_string()) {
        const std::string str = v;
        if (s.contains("minLength") && code_points(str) < s["minLength"].get<size_t>()) return "string too short";
        if (s.contains("maxLength") && code_points(str) > s["maxLength"].get<size_t>()) return "string too long";
        if (s.contains("format") && !format_ok(s["format"], str)) return str + " is not a " + s["format"].dump();
    }
    if (v.is_number()) {
        const double x = v.get<double>();
        if (s.contains("minimum") && x < s["minimum"].get<double>()) return v.dump() + " below minimum";
        if (s.contains("maximum") && x > s["maximum"].get<double>()) return v.dump() + " above maximum";
        if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) return v.dump() + " not above exclusiveMinimum";
        if (s.contains("exclusiveMaximum") && x >= s["exclusiveMaximum"].get<double>()) return v.dump() + " not below exclusiveMaximum";
    }
    return std::nullopt;
}

}  // namespace kiln::testing
