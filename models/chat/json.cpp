#include "models/chat/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/chat/budget.h"
#include "models/chat/text.h"

namespace kiln::jinja {

namespace {

constexpr int kMaxDepth = 128;

// Adds a piece within the string limit, charging its bytes.
void put(std::string& out, std::string_view piece) {
    reserve_string(out.size() + piece.size(), piece.size());
    out += piece;
}

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
    reserve_string(out.size() + s.size() + 2, s.size());  // escapes may add more: checked below
    out += '"';
    char buf[16];
    for (size_t i = 0; i < s.size();) {
        if (out.size() > kMaxStringBytes) check_string_size(out.size());  // a code point adds at most 12
        size_t start = i;
        uint32_t cp = text::decode(s, i);
        switch (cp) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            default: break;
        }
        if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
            if (cp >= 0x10000) {  // a surrogate pair, as Python writes it
                uint32_t v = cp - 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            }
            out += buf;
        } else {
            out.append(s, start, i - start);
        }
    }
    out += '"';
}

void newline(std::string& out, const JsonOptions& o, int level) {
    put(out, "\n");
    for (int i = 0; i < level; ++i) put(out, *o.indent);
}

void dump(std::string& out, const Value& v, const JsonOptions& o, int level) {
    if (level > kMaxDepth) throw EvalError("value nested too deeply (or contains itself) for tojson");
    charge_work(1);  // an item visited: shared lists may hold 2^40 paths to them
    switch (v.kind()) {
        case Value::Kind::None: put(out, "null"); return;
        case Value::Kind::Bool: put(out, v.as_bool() ? "true" : "false"); return;
        case Value::Kind::Int: put(out, std::to_string(v.as_int())); return;
        case Value::Kind::Float: {
            double f = v.as_float();
            if (std::isnan(f)) {
                put(out, "NaN");
            } else if (std::isinf(f)) {
                put(out, f > 0 ? "Infinity" : "-Infinity");
            } else {
                put(out, format_float(f));
            }
            return;
        }
        case Value::Kind::String: dump_string(out, v.as_string(), o.ensure_ascii); return;
        case Value::Kind::List: {
            const List& list = v.list();
            if (list.empty()) {
                put(out, "[]");
                return;
            }
            put(out, "[");
            for (size_t i = 0; i < list.size(); ++i) {
                if (i) put(out, o.item_separator);
                if (o.indent) newline(out, o, level + 1);
                dump(out, list[i], o, level + 1);
            }
            if (o.indent) newline(out, o, level);
            put(out, "]");
            return;
        }
        case Value::Kind::Dict: {
            if (v.dict().is_namespace) break;
            charge_items(v.dict().items.size());
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& item : v.dict().items) items.push_back(&item);
            if (o.sort_keys) {
                std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
            }
            if (items.empty()) {
                put(out, "{}");
                return;
            }
            put(out, "{");
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) put(out, o.item_separator);
                if (o.indent) newline(out, o, level + 1);
                dump_string(out, items[i]->first, o.ensure_ascii);
                put(out, o.key_separator);
                dump(out, items[i]->second, o, level + 1);
            }
            if (o.indent) newline(out, o, level);
            put(out, "}");
            return;
        }
        default: break;
    }
    throw EvalError("Object of type " + type_name(v) + " is not JSON serializable");
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    dump(out, v, options, 0);
    return out;
}

}  // namespace kiln::jinja
