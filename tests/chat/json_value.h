#pragma once
// Template values from JSON text, for tests, as Python's json.loads makes them: objects keep the
// text's key order (hence ordered_json), integers stay ints unless they overflow int64.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "models/chat/value.h"

namespace kiln::test {

template <class Json>
jinja::Value json_value(const Json& j) {
    switch (j.type()) {
        case Json::value_t::null: return jinja::Value::none();
        case Json::value_t::boolean: return jinja::Value(j.template get<bool>());
        case Json::value_t::number_integer: return jinja::Value(j.template get<int64_t>());
        case Json::value_t::number_unsigned: {
            uint64_t u = j.template get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return jinja::Value(static_cast<double>(u));
            return jinja::Value(static_cast<int64_t>(u));
        }
        case Json::value_t::number_float: return jinja::Value(j.template get<double>());
        case Json::value_t::string: return jinja::Value(j.template get<std::string>());
        case Json::value_t::array: {
            jinja::List list;
            for (const Json& item : j) list.push_back(json_value(item));
            return jinja::Value(std::move(list));
        }
        case Json::value_t::object: {
            jinja::Dict dict;
            for (const auto& [key, item] : j.items()) dict.set(key, json_value(item));
            return jinja::Value(std::move(dict));
        }
        default: break;  // binary and discarded values do not come out of parse()
    }
    return jinja::Value::none();
}

inline jinja::Value parse_json(std::string_view text) { return json_value(nlohmann::ordered_json::parse(text)); }

}  // namespace kiln::test
