#include "models/chat/operators.h"

#include <cmath>
#include <limits>
#include <optional>

#include "models/chat/text.h"

namespace kiln::jinja {

int64_t checked_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) throw EvalError("integer overflow");
    return r;
}

int64_t checked_mul(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) throw EvalError("integer overflow");
    return r;
}

namespace {

int64_t int_of(const Value& v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); }
bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    if (op == "+" && a.is_string()) throw EvalError("can only concatenate str (not \"" + type_name(b) + "\") to str");
    if (op == "+" && a.is_list()) throw EvalError("can only concatenate list (not \"" + type_name(b) + "\") to list");
    throw EvalError("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value repeat(const Value& seq, int64_t n) {
    if (n <= 0) return seq.is_string() ? Value(std::string()) : Value(List{});
    const auto count = static_cast<uint64_t>(n);
    if (seq.is_string()) {
        const std::string& s = seq.as_string();
        if (!s.empty() && count > kMaxStringBytes / s.size()) check_string_size(SIZE_MAX);
        reserve_string(s.size() * count);
        std::string out;
        out.reserve(s.size() * count);
        for (uint64_t i = 0; i < count; ++i) out += s;
        return Value(std::move(out));
    }
    const List& l = seq.list();
    if (!l.empty() && count > kMaxListItems / l.size()) check_list_size(SIZE_MAX);
    reserve_list(l.size() * count);
    List out;
    out.reserve(l.size() * count);
    for (uint64_t i = 0; i < count; ++i) out.insert(out.end(), l.begin(), l.end());
    return Value(std::move(out));
}

// a ~ b: both as strings, sized before they are joined.
Value concat_str(const Value& a, const Value& b) {
    std::string a_str = a.is_string() ? std::string() : to_str(a);
    std::string b_str = b.is_string() ? std::string() : to_str(b);
    const std::string& x = a.is_string() ? a.as_string() : a_str;
    const std::string& y = b.is_string() ? b.as_string() : b_str;
    reserve_string(x.size() + y.size());
    std::string out;
    out.reserve(x.size() + y.size());
    out += x;
    out += y;
    return Value(std::move(out));
}

int64_t floor_div(int64_t a, int64_t b) {
    if (b == 0) throw EvalError("integer division or modulo by zero");
    if (a == std::numeric_limits<int64_t>::min() && b == -1) throw EvalError("integer overflow");
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

int64_t py_mod(int64_t a, int64_t b) {
    if (b == 0) throw EvalError("integer division or modulo by zero");
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
    if (is_integral(a) && is_integral(b)) {
        int64_t x = int_of(a), y = int_of(b);
        if (op == "+") return Value(checked_add(x, y));
        if (op == "-") {
            int64_t r;
            if (__builtin_sub_overflow(x, y, &r)) throw EvalError("integer overflow");
            return Value(r);
        }
        if (op == "*") return Value(checked_mul(x, y));
        if (op == "//") return Value(floor_div(x, y));
        if (op == "%") return Value(py_mod(x, y));
        if (op == "**" && y >= 0) {
            int64_t r = 1;
            for (int64_t base = x; y > 0; y >>= 1) {
                if (y & 1) r = checked_mul(r, base);
                if (y > 1) base = checked_mul(base, base);
            }
            return Value(r);
        }
    }
    double x = a.to_double(), y = b.to_double();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "/") {
        if (y == 0) throw EvalError("division by zero");
        return Value(x / y);
    }
    if (op == "//") {
        if (y == 0) throw EvalError("float floor division by zero");
        return Value(std::floor(x / y));
    }
    if (op == "%") {
        if (y == 0) throw EvalError("float modulo");
        double r = std::fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value(r);
    }
    if (op == "**") {
        if (x == 0 && y < 0) throw EvalError("0.0 cannot be raised to a negative power");
        return Value(std::pow(x, y));
    }
    throw EvalError("unknown operator " + op);
}

// Python index normalisation: negative counts from the end; nullopt when out of range.
std::optional<size_t> normalise_index(int64_t i, size_t size) {
    int64_t n = static_cast<int64_t>(size);
    if (i < 0) i += n;
    if (i < 0 || i >= n) return std::nullopt;
    return static_cast<size_t>(i);
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
    if (op == "~") return concat_str(a, b);
    if (a.is_number() && b.is_number()) return arithmetic(op, a, b);
    if (op == "+") {
        if (a.is_string() && b.is_string()) return concat_str(a, b);
        if (a.is_list() && b.is_list()) {
            reserve_list(a.list().size() + b.list().size());
            List out;
            out.reserve(a.list().size() + b.list().size());
            out.insert(out.end(), a.list().begin(), a.list().end());
            out.insert(out.end(), b.list().begin(), b.list().end());
            return Value(std::move(out));
        }
    }
    if (op == "*") {
        if ((a.is_string() || a.is_list()) && is_integral(b)) return repeat(a, int_of(b));
        if ((b.is_string() || b.is_list()) && is_integral(a)) return repeat(b, int_of(a));
    }
    if (op == "%" && a.is_string()) throw EvalError("string formatting with '%' is not supported");
    unsupported(op, a, b);
}

Value negate(const Value& v) {
    if (v.is_float()) return Value(-v.as_float());
    if (is_integral(v)) {
        int64_t i = int_of(v);
        if (i == std::numeric_limits<int64_t>::min()) throw EvalError("integer overflow");
        return Value(-i);
    }
    if (v.is_undefined()) fail_undefined(v);
    throw EvalError("bad operand type for unary -: '" + type_name(v) + "'");
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case Value::Kind::Undefined: return false;  // iterating Undefined yields nothing
        case Value::Kind::String:
            if (!item.is_string()) {
                if (item.is_undefined()) fail_undefined(item);
                throw EvalError("'in <string>' requires string as left operand, not " + type_name(item));
            }
            return text::find_bytes(container.as_string(), item.as_string(), 0) != std::string::npos;
        case Value::Kind::List:
            for (const Value& v : container.list()) {
                if (equals(v, item)) return true;
            }
            return false;
        case Value::Kind::Dict: return item.is_string() && container.dict().find(item.as_string()) != nullptr;
        default: throw EvalError("argument of type '" + type_name(container) + "' is not iterable");
    }
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (obj.is_dict()) {
        if (key.is_string()) {
            if (const Value* v = obj.dict().find(key.as_string())) return *v;
        }
        return Value::undefined("'dict object' has no attribute " + repr(key));
    }
    if ((obj.is_list() || obj.is_string()) && is_integral(key)) {
        if (obj.is_list()) {
            if (auto i = normalise_index(int_of(key), obj.list().size())) return obj.list()[*i];
        } else {
            // Walks to the code point: an offsets table would cost 8 bytes per byte of text.
            const std::string& s = obj.as_string();
            int64_t i = int_of(key);
            if (i < 0) i += static_cast<int64_t>(text::length(s));
            if (i >= 0) {
                size_t begin = text::advance(s, 0, static_cast<size_t>(i));
                if (begin < s.size()) return Value(s.substr(begin, text::advance(s, begin, 1) - begin));
            }
        }
        return Value::undefined(type_name(obj) + " object has no element " + std::to_string(int_of(key)));
    }
    return Value::undefined("'" + type_name(obj) + " object' has no attribute " + repr(key));
}

Value get_attr(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (obj.is_dict()) {
        if (const Value* v = obj.dict().find(name)) return *v;
    }
    return Value::undefined("'" + type_name(obj) + " object' has no attribute '" + name + "'");
}

Value slice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
    if (obj.is_undefined()) fail_undefined(obj);
    auto bound = [](const Value* v, const char* what) -> std::optional<int64_t> {
        if (!v || v->is_none()) return std::nullopt;
        if (!is_integral(*v)) throw EvalError(std::string("slice ") + what + " must be an integer or None");
        return int_of(*v);
    };
    int64_t st = bound(step, "step").value_or(1);
    if (st == 0) throw EvalError("slice step cannot be zero");
    int64_t n;
    if (obj.is_list()) {
        n = static_cast<int64_t>(obj.list().size());
    } else if (obj.is_string()) {
        n = static_cast<int64_t>(text::length(obj.as_string()));
    } else {
        return Value::undefined("'" + type_name(obj) + "' object is not subscriptable");
    }
    // Python's PySlice_AdjustIndices.
    auto adjust = [&](std::optional<int64_t> v, int64_t dflt) {
        if (!v) return dflt;
        int64_t i = *v;
        if (i < 0) {
            i += n;
            if (i < 0) i = st < 0 ? -1 : 0;
        } else if (i >= n) {
            i = st < 0 ? n - 1 : n;
        }
        return i;
    };
    int64_t b = adjust(bound(start, "start"), st < 0 ? n - 1 : 0);
    int64_t e = adjust(bound(stop, "stop"), st < 0 ? -1 : n);
    // How many items the slice picks: ceil(span / |st|), in unsigned arithmetic (|INT64_MIN|
    // is no int64); span < 2^63 and |st| <= 2^63, so the sum cannot wrap.
    const int64_t span = st > 0 ? e - b : b - e;
    const uint64_t stride = st > 0 ? static_cast<uint64_t>(st) : static_cast<uint64_t>(-(st + 1)) + 1;
    const size_t picks = span <= 0 ? 0 : (static_cast<uint64_t>(span) + stride - 1) / stride;
    if (obj.is_list()) {
        reserve_list(picks);
        List out;
        out.reserve(picks);
        for (size_t k = 0; k < picks; ++k) {
            out.push_back(obj.list()[static_cast<size_t>(b + static_cast<int64_t>(k) * st)]);
        }
        return Value(std::move(out));
    }
    const std::string& s = obj.as_string();
    if (st == 1) {  // the common case, walked: no offsets table
        size_t from = text::advance(s, 0, static_cast<size_t>(b));
        size_t to = text::advance(s, from, picks);
        reserve_string(to - from);
        return Value(s.substr(from, to - from));
    }
    std::vector<size_t> off = text::code_point_offsets(s);
    std::string out;
    for (size_t k = 0; k < picks; ++k) {
        auto i = static_cast<size_t>(b + static_cast<int64_t>(k) * st);
        out.append(s, off[i], off[i + 1] - off[i]);
    }
    charge_bytes(out.size());
    return Value(std::move(out));
}

List iterate(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return {};
        case Value::Kind::List: charge_items(v.list().size()); return v.list();
        case Value::Kind::Dict: {
            charge_items(v.dict().items.size());
            List keys;
            for (const auto& item : v.dict().items) keys.emplace_back(item.first);
            return keys;
        }
        case Value::Kind::String: {
            // A string per character: each is an allocation, so limited as a list is.
            const std::string& s = v.as_string();
            size_t n = text::length(s);
            reserve_list(n);
            charge_bytes(n * sizeof(std::string));
            List chars;
            chars.reserve(n);
            for (size_t i = 0; i < s.size();) {
                size_t start = i;
                text::decode(s, i);
                chars.emplace_back(s.substr(start, i - start));
            }
            return chars;
        }
        default: throw EvalError("'" + type_name(v) + "' object is not iterable");
    }
}

int64_t length_of(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined: return 0;
        case Value::Kind::String: return static_cast<int64_t>(text::length(v.as_string()));
        case Value::Kind::List: return static_cast<int64_t>(v.list().size());
        case Value::Kind::Dict: return static_cast<int64_t>(v.dict().items.size());
        default: throw EvalError("object of type '" + type_name(v) + "' has no len()");
    }
}

}  // namespace kiln::jinja
