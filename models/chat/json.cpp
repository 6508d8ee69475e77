#include "models/chat/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "graph/error.h"
#include "models/chat/text.h"

namespace kiln::jinja {

namespace {

constexpr int kMaxDepth = 128;

void dump_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    char buf[16];
    for (size_t i = 0; i < s.size();) {
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
    out += '\n';
    for (int i = 0; i < level; ++i) out += *o.indent;
}

void dump(std::string& out, const Value& v, const JsonOptions& o, int level) {
    if (level > kMaxDepth) throw EvalError("value nested too deeply (or contains itself) for tojson");
    switch (v.kind()) {
        case Value::Kind::None: out += "null"; return;
        case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
        case Value::Kind::Int: out += std::to_string(v.as_int()); return;
        case Value::Kind::Float: {
            double f = v.as_float();
            if (std::isnan(f)) {
                out += "NaN";
            } else if (std::isinf(f)) {
                out += f > 0 ? "Infinity" : "-Infinity";
            } else {
                out += format_float(f);
            }
            return;
        }
        case Value::Kind::String: dump_string(out, v.as_string(), o.ensure_ascii); return;
        case Value::Kind::List: {
            const List& list = v.list();
            if (list.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t i = 0; i < list.size(); ++i) {
                if (i) out += o.item_separator;
                if (o.indent) newline(out, o, level + 1);
                dump(out, list[i], o, level + 1);
            }
            if (o.indent) newline(out, o, level);
            out += ']';
            return;
        }
        case Value::Kind::Dict: {
            if (v.dict().is_namespace) break;
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& item : v.dict().items) items.push_back(&item);
            if (o.sort_keys) {
                std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
            }
            if (items.empty()) {
                out += "{}";
                return;
            }
            out += '{';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += o.item_separator;
                if (o.indent) newline(out, o, level + 1);
                dump_string(out, items[i]->first, o.ensure_ascii);
                out += o.key_separator;
                dump(out, items[i]->second, o, level + 1);
            }
            if (o.indent) newline(out, o, level);
            out += '}';
            return;
        }
        default: break;
    }
    throw EvalError("Object of type " + type_name(v) + " is not JSON serializable");
}

class JsonParser {
public:
    explicit JsonParser(std::string_view s) : s_(s) {}

    Value parse_document() {
        Value v = parse_value(0);
        skip_ws();
        if (pos_ != s_.size()) fail("unexpected text after the value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error("JSON: " + what + " at byte " + std::to_string(pos_));
    }

    void skip_ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }

    bool consume(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    Value parse_value(int depth) {
        if (depth > kMaxDepth) fail("nesting too deep");
        skip_ws();
        if (pos_ >= s_.size()) fail("unexpected end");
        char c = s_[pos_];
        if (c == '{') return parse_object(depth);
        if (c == '[') return parse_array(depth);
        if (c == '"') return Value(parse_string());
        if (consume("true")) return Value(true);
        if (consume("false")) return Value(false);
        if (consume("null")) return Value::none();
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character '") + c + "'");
    }

    Value parse_object(int depth) {
        ++pos_;
        Dict dict;
        skip_ws();
        if (consume("}")) return Value(std::move(dict));
        for (;;) {
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key");
            std::string key = parse_string();
            skip_ws();
            if (!consume(":")) fail("expected ':'");
            Value item = parse_value(depth + 1);
            dict.set(std::move(key), std::move(item));
            skip_ws();
            if (consume("}")) return Value(std::move(dict));
            if (!consume(",")) fail("expected ',' or '}'");
        }
    }

    Value parse_array(int depth) {
        ++pos_;
        List list;
        skip_ws();
        if (consume("]")) return Value(std::move(list));
        for (;;) {
            list.push_back(parse_value(depth + 1));
            skip_ws();
            if (consume("]")) return Value(std::move(list));
            if (!consume(",")) fail("expected ',' or ']'");
        }
    }

    uint32_t parse_hex4() {
        if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
        uint32_t v = 0;
        auto res = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, v, 16);
        if (res.ptr != s_.data() + pos_ + 4) fail("bad \\u escape");
        pos_ += 4;
        return v;
    }

    std::string parse_string() {
        ++pos_;
        std::string out;
        for (;;) {
            if (pos_ >= s_.size()) fail("unterminated string");
            char c = s_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) fail("unterminated string");
            char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = parse_hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && consume("\\u")) {
                        uint32_t lo = parse_hex4();
                        if (lo >= 0xDC00 && lo < 0xE000) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else {
                            kiln::append_utf8(out, cp);
                            cp = lo;
                        }
                    }
                    kiln::append_utf8(out, cp);
                    break;
                }
                default: fail(std::string("bad escape '\\") + e + "'");
            }
        }
    }

    Value parse_number() {
        size_t start = pos_;
        bool is_float = false;
        if (s_[pos_] == '-') ++pos_;
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && pos_ > start)) {
                is_float = true;
            } else if (c < '0' || c > '9') {
                break;
            }
            ++pos_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        if (!is_float) {
            int64_t i = 0;
            auto res = std::from_chars(first, last, i);
            if (res.ec == std::errc() && res.ptr == last) return Value(i);
        }
        double f = 0;
        auto res = std::from_chars(first, last, f);
        if (res.ptr != last) fail("bad number");
        return Value(f);
    }

    std::string_view s_;
    size_t pos_ = 0;
};

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    dump(out, v, options, 0);
    return out;
}

Value parse_json(std::string_view json) { return JsonParser(json).parse_document(); }

}  // namespace kiln::jinja
