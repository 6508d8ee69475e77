#include "models/chat/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "models/chat/text.h"

namespace kiln::jinja {

namespace {
// Deeply nested (or, through append, self-containing) values end here instead of overflowing
// the C++ stack.
constexpr int kMaxNesting = 128;

void check_depth(int depth) {
    if (depth > kMaxNesting) throw EvalError("value nested too deeply (or contains itself)");
}
}  // namespace

const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items) {
        if (k == key) return &v;
    }
    return nullptr;
}

Value* Dict::find(std::string_view key) {
    for (auto& [k, v] : items) {
        if (k == key) return &v;
    }
    return nullptr;
}

void Dict::set(std::string key, Value value) {
    if (Value* slot = find(key)) {
        *slot = std::move(value);
    } else {
        items.emplace_back(std::move(key), std::move(value));
    }
}

bool Dict::erase(std::string_view key) {
    for (auto it = items.begin(); it != items.end(); ++it) {
        if (it->first == key) {
            items.erase(it);
            return true;
        }
    }
    return false;
}

Value Value::callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
    return Value(std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)}));
}

double Value::to_double() const {
    switch (kind()) {
        case Kind::Bool: return as_bool() ? 1.0 : 0.0;
        case Kind::Int: return static_cast<double>(as_int());
        case Kind::Float: return as_float();
        default: throw EvalError("expected a number, got " + type_name(*this));
    }
}

bool Value::same_object(const Value& other) const {
    if (is_list() && other.is_list()) return &list() == &other.list();
    if (is_dict() && other.is_dict()) return &dict() == &other.dict();
    return false;
}

bool truthy(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
        case Value::Kind::None: return false;
        case Value::Kind::Bool: return v.as_bool();
        case Value::Kind::Int: return v.as_int() != 0;
        case Value::Kind::Float: return v.as_float() != 0.0;
        case Value::Kind::String: return !v.as_string().empty();
        case Value::Kind::List: return !v.list().empty();
        case Value::Kind::Dict: return !v.dict().items.empty();
        case Value::Kind::Callable: return true;
    }
    return false;
}

std::string format_float(double f) {
    if (std::isnan(f)) return "nan";
    if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
    if (f == 0.0) return std::signbit(f) ? "-0.0" : "0.0";
    // Shortest round-trip digits in scientific form, then laid out as Python's repr does.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool negative = sci[0] == '-';
    if (negative) sci.erase(0, 1);
    size_t e = sci.find('e');
    int exp = std::stoi(sci.substr(e + 1));
    std::string digits;
    for (size_t i = 0; i < e; ++i) {
        if (sci[i] != '.') digits += sci[i];
    }
    std::string out = negative ? "-" : "";
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
            out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + ebuf;
}

namespace {

void repr_string(std::string& out, const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    out += quote;
    for (size_t i = 0; i < s.size();) {
        size_t start = i;
        uint32_t cp = text::decode(s, i);
        char buf[16];
        if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0xAD) {
            std::snprintf(buf, sizeof buf, "\\x%02x", cp);
            out += buf;
        } else if (cp == 0x2028 || cp == 0x2029) {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            out += buf;
        } else {
            out.append(s, start, i - start);
        }
    }
    out += quote;
}

void append_str(std::string& out, const Value& v, bool as_repr, int depth) {
    check_depth(depth);
    switch (v.kind()) {
        case Value::Kind::Undefined: break;
        case Value::Kind::None: out += "None"; break;
        case Value::Kind::Bool: out += v.as_bool() ? "True" : "False"; break;
        case Value::Kind::Int: out += std::to_string(v.as_int()); break;
        case Value::Kind::Float: out += format_float(v.as_float()); break;
        case Value::Kind::String:
            if (as_repr) {
                repr_string(out, v.as_string());
            } else {
                out += v.as_string();
            }
            break;
        case Value::Kind::List: {
            out += '[';
            bool first = true;
            for (const Value& item : v.list()) {
                if (!first) out += ", ";
                first = false;
                append_str(out, item, true, depth + 1);
            }
            out += ']';
            break;
        }
        case Value::Kind::Dict: {
            if (v.dict().is_namespace) out += "<Namespace ";
            out += '{';
            bool first = true;
            for (const auto& [k, item] : v.dict().items) {
                if (!first) out += ", ";
                first = false;
                repr_string(out, k);
                out += ": ";
                append_str(out, item, true, depth + 1);
            }
            out += '}';
            if (v.dict().is_namespace) out += '>';
            break;
        }
        case Value::Kind::Callable: out += "<function " + v.callable().name + ">"; break;
    }
}

bool equals_at(const Value& a, const Value& b, int depth) {
    check_depth(depth);
    using K = Value::Kind;
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
        auto as_i = [](const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); };
        return as_i(a) == as_i(b);
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case K::Undefined:
        case K::None: return true;
        case K::String: return a.as_string() == b.as_string();
        case K::List: {
            const List &x = a.list(), &y = b.list();
            if (x.size() != y.size()) return false;
            for (size_t i = 0; i < x.size(); ++i) {
                if (!equals_at(x[i], y[i], depth + 1)) return false;
            }
            return true;
        }
        case K::Dict: {
            const Dict &x = a.dict(), &y = b.dict();
            if (x.items.size() != y.items.size()) return false;
            for (const auto& [k, item] : x.items) {
                const Value* other = y.find(k);
                if (!other || !equals_at(item, *other, depth + 1)) return false;
            }
            return true;
        }
        case K::Callable: return &a.callable() == &b.callable();
        default: return false;
    }
}

int compare_at(const Value& a, const Value& b, int depth) {
    check_depth(depth);
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.to_double(), y = b.to_double();
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        auto as_i = [](const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); };
        int64_t x = as_i(a), y = as_i(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        // Byte order of UTF-8 is code point order, which is what Python compares.
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_list() && b.is_list()) {
        const List &x = a.list(), &y = b.list();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (!equals_at(x[i], y[i], depth + 1)) return compare_at(x[i], y[i], depth + 1);
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    throw EvalError("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

}  // namespace

std::string to_str(const Value& v) {
    if (v.is_string()) return v.as_string();
    std::string out;
    append_str(out, v, false, 0);
    return out;
}

std::string repr(const Value& v) {
    std::string out;
    append_str(out, v, true, 0);
    return out;
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return "Undefined";
        case Value::Kind::None: return "NoneType";
        case Value::Kind::Bool: return "bool";
        case Value::Kind::Int: return "int";
        case Value::Kind::Float: return "float";
        case Value::Kind::String: return "str";
        case Value::Kind::List: return "list";
        case Value::Kind::Dict: return v.dict().is_namespace ? "Namespace" : "dict";
        case Value::Kind::Callable: return "function";
    }
    return "object";
}

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

int compare(const Value& a, const Value& b) { return compare_at(a, b, 0); }

namespace {
bool reaches(const Value& v, const void* target, int depth) {
    if (depth > kMaxNesting) return true;  // too deep to tell: refuse, as for a cycle
    if (v.is_list()) {
        if (&v.list() == target) return true;
        for (const Value& item : v.list()) {
            if ((item.is_list() || item.is_dict()) && reaches(item, target, depth + 1)) return true;
        }
    } else if (v.is_dict()) {
        if (&v.dict() == target) return true;
        for (const auto& [k, item] : v.dict().items) {
            if ((item.is_list() || item.is_dict()) && reaches(item, target, depth + 1)) return true;
        }
    }
    return false;
}
}  // namespace

void check_no_cycle(const Value& container, const Value& item) {
    const void* target = container.is_list() ? static_cast<const void*>(&container.list())
                                             : static_cast<const void*>(&container.dict());
    if (reaches(item, target, 0)) throw EvalError("a list or dict cannot contain itself");
}

void fail_undefined(const Value& v) {
    const std::string& hint = v.undefined_hint();
    throw EvalError(hint.empty() ? "value is undefined" : hint);
}

}  // namespace kiln::jinja
