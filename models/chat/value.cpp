#include "models/chat/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "models/chat/budget.h"
#include "models/chat/text.h"

namespace kiln::jinja {

namespace {
// Deeply nested values end here instead of overflowing the C++ stack (a list that contains
// itself is refused when built: check_no_cycle).
constexpr int kMaxNesting = 128;

void check_depth(int depth) {
    if (depth > kMaxNesting) throw EvalError("value nested too deeply (or contains itself)");
}
}  // namespace

const Value* Dict::find(std::string_view key) const {
    // Linear: charged, so a dict grown to 100000 keys cannot make each lookup free.
    for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].first == key) {
            charge_work(i / 8);
            return &items[i].second;
        }
    }
    charge_work(items.size() / 8);
    return nullptr;
}

Value* Dict::find(std::string_view key) {
    return const_cast<Value*>(static_cast<const Dict&>(*this).find(key));
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

namespace {

// A list's or dict's items, moved out into `doomed` (as many as memory allows: what stays is
// freed recursively, as usual).
void take_items(List& list, std::vector<Value>& doomed) noexcept {
    try {
        for (Value& v : list) doomed.push_back(std::move(v));
    } catch (const std::bad_alloc&) {
    }
}
void take_items(Dict& dict, std::vector<Value>& doomed) noexcept {
    try {
        for (auto& item : dict.items) doomed.push_back(std::move(item.second));
    } catch (const std::bad_alloc&) {
    }
}

bool holds_container(const List& list) {
    for (const Value& v : list) {
        if (v.is_list() || v.is_dict()) return true;
    }
    return false;
}
bool holds_container(const Dict& dict) {
    for (const auto& item : dict.items) {
        if (item.second.is_list() || item.second.is_dict()) return true;
    }
    return false;
}

// Frees a list or dict without recursing into the lists and dicts only it holds: `[x]` in a
// loop nests 100000 deep cheaply, and 100000 nested destructor calls would overflow the stack.
// Containers that others still share are left to them.
template <class T>
void free_flat(T* container) {
    if (!holds_container(*container)) {
        delete container;
        return;
    }
    std::vector<Value> doomed;
    take_items(*container, doomed);
    delete container;
    while (!doomed.empty()) {
        Value v = std::move(doomed.back());
        doomed.pop_back();
        if (v.is_list() && v.sole_owner()) take_items(v.list(), doomed);
        if (v.is_dict() && v.sole_owner()) take_items(v.dict(), doomed);
    }  // each v goes emptied of its containers, so its own free_flat does not recurse
}

}  // namespace

static_assert(sizeof(Value) == 24, "a Value is a tag and a shared pointer or a scalar");

Value::Value(List list) : data_(std::shared_ptr<List>(new List(std::move(list)), free_flat<List>)) {}
Value::Value(Dict dict) : data_(std::shared_ptr<Dict>(new Dict(std::move(dict)), free_flat<Dict>)) {}

bool Value::sole_owner() const {
    if (is_list()) return std::get<std::shared_ptr<List>>(data_).use_count() == 1;
    if (is_dict()) return std::get<std::shared_ptr<Dict>>(data_).use_count() == 1;
    return false;
}

const std::string& Value::undefined_hint() const {
    static const std::string none;
    const auto& hint = std::get<UndefinedData>(data_).hint;
    return hint ? *hint : none;
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

// Adds a piece to a string being built, within the string limit, charging its bytes.
void put(std::string& out, std::string_view piece) {
    reserve_string(out.size() + piece.size(), piece.size());
    out += piece;
}

void repr_string(std::string& out, const std::string& s) {
    reserve_string(out.size() + s.size() + 2, s.size());  // escapes may add more: checked below
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
        if (out.size() > kMaxStringBytes) check_string_size(out.size());
    }
    out += quote;
}

void append_str(std::string& out, const Value& v, bool as_repr, int depth) {
    check_depth(depth);
    charge_work(1);  // an item visited: a list shared 2^40 times over must not print for hours
    switch (v.kind()) {
        case Value::Kind::Undefined: break;
        case Value::Kind::None: put(out, "None"); break;
        case Value::Kind::Bool: put(out, v.as_bool() ? "True" : "False"); break;
        case Value::Kind::Int: put(out, std::to_string(v.as_int())); break;
        case Value::Kind::Float: put(out, format_float(v.as_float())); break;
        case Value::Kind::String:
            if (as_repr) {
                repr_string(out, v.as_string());
            } else {
                put(out, v.as_string());
            }
            break;
        case Value::Kind::List: {
            put(out, "[");
            bool first = true;
            for (const Value& item : v.list()) {
                if (!first) put(out, ", ");
                first = false;
                append_str(out, item, true, depth + 1);
            }
            put(out, "]");
            break;
        }
        case Value::Kind::Dict: {
            put(out, v.dict().is_namespace ? "<Namespace {" : "{");
            bool first = true;
            for (const auto& [k, item] : v.dict().items) {
                if (!first) put(out, ", ");
                first = false;
                repr_string(out, k);
                put(out, ": ");
                append_str(out, item, true, depth + 1);
            }
            put(out, v.dict().is_namespace ? "}>" : "}");
            break;
        }
        case Value::Kind::Callable: put(out, "<function " + v.callable().name + ">"); break;
    }
}

bool equals_at(const Value& a, const Value& b, int depth) {
    check_depth(depth);
    charge_work(1);  // an item visited
    if (a.same_object(b)) return true;
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
        case K::String:
            if (a.as_string().size() != b.as_string().size()) return false;
            charge_bytes(a.as_string().size());
            return a.as_string() == b.as_string();
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
    charge_work(1);
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
        charge_bytes(std::min(a.as_string().size(), b.as_string().size()));
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
    if (v.is_string()) {
        charge_bytes(v.as_string().size());  // a copy
        return v.as_string();
    }
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

void check_no_cycle(const Value& container, const Value& item) {
    if (!item.is_list() && !item.is_dict()) return;
    const void* target = container.is_list() ? static_cast<const void*>(&container.list())
                                             : static_cast<const void*>(&container.dict());
    // Depth first, without recursion, each list or dict once: shared structure is a DAG whose
    // paths may number 2^n, though it holds only n containers.
    std::unordered_set<const void*> seen;
    std::vector<const Value*> todo{&item};
    while (!todo.empty()) {
        const Value* v = todo.back();
        todo.pop_back();
        const void* at = v->is_list() ? static_cast<const void*>(&v->list()) : static_cast<const void*>(&v->dict());
        if (at == target) throw EvalError("a list or dict cannot contain itself");
        if (!seen.insert(at).second) continue;
        auto visit = [&](const Value& child) {
            charge_work(1);
            if (child.is_list() || child.is_dict()) todo.push_back(&child);
        };
        if (v->is_list()) {
            for (const Value& child : v->list()) visit(child);
        } else {
            for (const auto& [k, child] : v->dict().items) visit(child);
        }
    }
}

void fail_undefined(const Value& v) {
    const std::string& hint = v.undefined_hint();
    throw EvalError(hint.empty() ? "value is undefined" : hint);
}

}  // namespace kiln::jinja
