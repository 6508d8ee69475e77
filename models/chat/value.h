#pragma once
// The values a chat template computes with, modelled on the Python objects Jinja2 hands around:
// undefined, none, bool, int, float, str, list, dict (insertion-ordered) and callables.
//
// Lists and dicts are shared by reference, as in Python, so `ns.items.append(x)` or a namespace
// updated inside a loop is seen by every holder. Strings are immutable and shared too, so copying
// a value (every name lookup does) costs a reference count, never the string's bytes. Strings are
// UTF-8; indexing, slicing and length count code points, as Python's str does.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "models/chat/errors.h"

namespace kiln::jinja {

class Value;
class Interpreter;

using List = std::vector<Value>;

// A Python dict with string keys. Linear lookup: template dicts hold a handful of keys.
struct Dict {
    std::vector<std::pair<std::string, Value>> items;
    bool is_namespace = false;  // made by namespace(): the only object `set x.attr = ...` may change

    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    void set(std::string key, Value value);  // replaces in place, else appends (keeps order)
    bool erase(std::string_view key);
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
    std::string name;
    std::function<Value(Interpreter&, CallArgs&)> fn;
};

class Value {
public:
    enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };

    Value() : data_(UndefinedData{}) {}
    Value(bool b) : data_(b) {}
    Value(int i) : data_(static_cast<int64_t>(i)) {}
    Value(int64_t i) : data_(i) {}
    Value(double f) : data_(f) {}
    Value(std::string s) : data_(std::make_shared<const std::string>(std::move(s))) {}
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(const char* s) : Value(std::string(s)) {}
    Value(List list);
    Value(Dict dict);

    static Value none() { return Value(nullptr); }
    // `hint` is the error an operation on this value reports ("'x' is undefined").
    static Value undefined(std::string hint) {
        return Value(UndefinedData{std::make_shared<const std::string>(std::move(hint))});
    }
    static Value callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);

    Kind kind() const { return static_cast<Kind>(data_.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is an int
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_callable() const { return kind() == Kind::Callable; }

    bool as_bool() const { return std::get<bool>(data_); }
    int64_t as_int() const { return std::get<int64_t>(data_); }
    double as_float() const { return std::get<double>(data_); }
    // Numbers (bool, int, float) as double.
    double to_double() const;
    const std::string& as_string() const { return *std::get<std::shared_ptr<const std::string>>(data_); }
    List& list() const { return *std::get<std::shared_ptr<List>>(data_); }
    Dict& dict() const { return *std::get<std::shared_ptr<Dict>>(data_); }
    const Callable& callable() const { return *std::get<std::shared_ptr<const Callable>>(data_); }
    const std::string& undefined_hint() const;
    // Same list or dict object (Python `is`).
    bool same_object(const Value& other) const;
    // A list or dict that no other value holds.
    bool sole_owner() const;

private:
    struct UndefinedData {
        std::shared_ptr<const std::string> hint;  // shared: keeps Value at 24 bytes
    };
    explicit Value(std::nullptr_t) : data_(nullptr) {}
    explicit Value(UndefinedData u) : data_(std::move(u)) {}
    explicit Value(std::shared_ptr<List> l) : data_(std::move(l)) {}
    explicit Value(std::shared_ptr<Dict> d) : data_(std::move(d)) {}
    explicit Value(std::shared_ptr<const Callable> c) : data_(std::move(c)) {}

    std::variant<UndefinedData, std::nullptr_t, bool, int64_t, double, std::shared_ptr<const std::string>,
                 std::shared_ptr<List>, std::shared_ptr<Dict>, std::shared_ptr<const Callable>>
        data_;
};

// str(), repr(), ==, ordering and the cycle check below count the items and bytes they visit
// against the render's budget (budget.h), so a list shared 2^40 times over fails instead of
// running for hours.
//
// Python's truthiness (undefined is false).
bool truthy(const Value& v);
// Python's str(): None -> "None", True -> "True", 1.0 -> "1.0", lists and dicts as their repr;
// undefined -> "" (Jinja2's default Undefined prints as nothing).
std::string to_str(const Value& v);
// Python's repr(): strings quoted, as inside a printed list.
std::string repr(const Value& v);
// Python's float repr: shortest round-trip digits, exponent outside [1e-4, 1e16).
std::string format_float(double f);
// Python's type name, for error messages ("str", "int", "NoneType", "dict", ...).
std::string type_name(const Value& v);
// Python's ==: numbers across int/float/bool, lists element-wise, dicts regardless of order; a
// list or dict is equal to itself at once, as Python's `is` shortcut makes it.
bool equals(const Value& a, const Value& b);
// Python's ordering (<0, 0, >0) for numbers, strings and lists; EvalError for anything else.
int compare(const Value& a, const Value& b);
// Refuses (EvalError) to put `item` into `container` when item is or holds container: values are
// reference-counted, so a list or dict that contains itself would never be freed. Visits each
// list and dict once, however often it is shared.
void check_no_cycle(const Value& container, const Value& item);
// Raises the undefined value's own error (for operations Jinja2's Undefined refuses).
[[noreturn]] void fail_undefined(const Value& v);

}  // namespace kiln::jinja
