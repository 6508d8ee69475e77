#include "models/chat/json_value.h"

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/error.h"
#include "graph/error_text.h"

namespace kiln::jinja {
namespace {

using Json = nlohmann::ordered_json;

Value convert(const Json& j, int depth, int max_depth, std::string_view source) {
    if (depth > max_depth) {
        throw Error(std::string(source) + ": JSON nested deeper than " + std::to_string(max_depth) + " levels");
    }
    switch (j.type()) {
        case Json::value_t::null: return Value::none();
        case Json::value_t::boolean: return Value(j.get<bool>());
        case Json::value_t::number_integer: return Value(j.get<int64_t>());
        case Json::value_t::number_unsigned: {
            const uint64_t u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value(static_cast<double>(u));
            return Value(static_cast<int64_t>(u));
        }
        case Json::value_t::number_float: return Value(j.get<double>());
        case Json::value_t::string: return Value(j.get<std::string>());
        case Json::value_t::array: {
            List list;
            for (const Json& item : j) list.push_back(convert(item, depth + 1, max_depth, source));
            return Value(std::move(list));
        }
        case Json::value_t::object: {
            Dict dict;
            for (const auto& [key, item] : j.items()) dict.set(key, convert(item, depth + 1, max_depth, source));
            return Value(std::move(dict));
        }
        default: break;  // binary and discarded values do not come out of parse()
    }
    return Value::none();
}

}  // namespace

Value json_to_value(std::string_view text, std::string_view source, int max_depth) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string(source) + ": not JSON: " + escape_control(e.what()));
    }
    return convert(j, 0, max_depth, source);
}

}  // namespace kiln::jinja
