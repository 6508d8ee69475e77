// Methods of Python's str, list and dict that templates call, and the global functions.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "models/chat/builtins.h"
#include "models/chat/evaluator.h"
#include "models/chat/operators.h"
#include "models/chat/text.h"

namespace kiln::jinja {

namespace {

std::optional<std::string> opt_string(const std::optional<Value>& v) {
    if (!v || v->is_none()) return std::nullopt;
    if (!v->is_string()) throw EvalError("expected a string argument, got " + type_name(*v));
    return v->as_string();
}

std::string req_string(const std::optional<Value>& v, const char* what) {
    if (!v || !v->is_string()) throw EvalError(std::string(what) + " must be a string");
    return v->as_string();
}

int64_t opt_int(const std::optional<Value>& v, int64_t dflt) {
    if (!v || v->is_none()) return dflt;
    if (v->is_int()) return v->as_int();
    if (v->is_bool()) return v->as_bool();
    throw EvalError("expected an integer argument, got " + type_name(*v));
}

List strings(const std::vector<std::string>& parts) {
    charge_items(parts.size());
    List out;
    out.reserve(parts.size());
    for (const std::string& p : parts) out.emplace_back(p);
    return out;
}

// startswith/endswith take a string or a tuple (list) of strings.
bool affix_match(const std::string& s, const Value& affix, bool suffix) {
    auto one = [&](const Value& a) {
        charge_work(1);
        if (!a.is_string()) throw EvalError("startswith/endswith arguments must be strings");
        const std::string& x = a.as_string();
        if (x.size() > s.size()) return false;
        return suffix ? s.compare(s.size() - x.size(), x.size(), x) == 0 : s.compare(0, x.size(), x) == 0;
    };
    if (affix.is_list()) {
        return std::any_of(affix.list().begin(), affix.list().end(), one);
    }
    return one(affix);
}

template <typename Pred>
bool all_code_points(const std::string& s, Pred pred) {
    if (s.empty()) return false;
    charge_bytes(s.size());
    for (size_t i = 0; i < s.size();) {
        if (!pred(text::decode(s, i))) return false;
    }
    return true;
}

std::optional<Value> string_method(const std::string& s, const std::string& name, CallArgs& args) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        auto a = bind_args(name, args, {"chars"});
        return Value(text::strip(s, opt_string(a[0]), name != "rstrip", name != "lstrip"));
    }
    if (name == "split" || name == "rsplit") {
        auto a = bind_args(name, args, {"sep", "maxsplit"});
        std::optional<std::string> sep = opt_string(a[0]);
        if (sep && sep->empty()) throw EvalError("empty separator");
        int64_t maxsplit = opt_int(a[1], -1);
        return Value(strings(name == "split" ? text::split(s, sep, maxsplit) : text::rsplit(s, sep, maxsplit)));
    }
    if (name == "splitlines") {
        bind_args(name, args, {});
        return Value(strings(text::splitlines(s)));
    }
    if (name == "startswith" || name == "endswith") {
        auto a = bind_args(name, args, {"affix"});
        if (!a[0]) throw EvalError(name + "() takes one argument");
        return Value(affix_match(s, *a[0], name == "endswith"));
    }
    if (name == "upper") return Value(text::upper(s));
    if (name == "lower") return Value(text::lower(s));
    if (name == "title") return Value(text::title(s));
    if (name == "capitalize") return Value(text::capitalize(s));
    if (name == "replace") {
        auto a = bind_args(name, args, {"old", "new", "count"});
        std::string from = req_string(a[0], "replace() old"), to = req_string(a[1], "replace() new");
        return Value(text::replace(s, from, to, opt_int(a[2], -1)));
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
        auto a = bind_args(name, args, {"sub"});
        int64_t at = text::find(s, req_string(a[0], "substring"), name[0] == 'r');
        if (at < 0 && name.find("index") != std::string::npos) throw EvalError("substring not found");
        return Value(at);
    }
    if (name == "count") {
        auto a = bind_args(name, args, {"sub"});
        return Value(text::count(s, req_string(a[0], "substring")));
    }
    if (name == "join") {
        auto a = bind_args(name, args, {"iterable"});
        if (!a[0]) throw EvalError("join() takes one argument");
        std::string out;
        bool first = true;
        for (const Value& item : iterate(*a[0])) {
            if (!item.is_string()) throw EvalError("sequence item: expected str instance, " + type_name(item) + " found");
            size_t added = (first ? 0 : s.size()) + item.as_string().size();
            reserve_string(out.size() + added, added);
            if (!first) out += s;
            first = false;
            out += item.as_string();
        }
        return Value(std::move(out));
    }
    if (name == "removeprefix" || name == "removesuffix") {
        auto a = bind_args(name, args, {"affix"});
        std::string x = req_string(a[0], "affix");
        bool suffix = name == "removesuffix";
        charge_bytes(s.size());
        if (!affix_match(s, Value(x), suffix)) return Value(s);
        return Value(suffix ? s.substr(0, s.size() - x.size()) : s.substr(x.size()));
    }
    if (name == "isspace") return Value(all_code_points(s, text::is_space));
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
        return Value(all_code_points(s, [](uint32_t c) { return c >= '0' && c <= '9'; }));
    }
    if (name == "isalpha") {
        return Value(all_code_points(s, [](uint32_t c) {
            std::string one;
            kiln::append_utf8(one, c);
            return text::upper(one) != text::lower(one);
        }));
    }
    if (name == "isalnum") {
        return Value(all_code_points(s, [](uint32_t c) {
            std::string one;
            kiln::append_utf8(one, c);
            return (c >= '0' && c <= '9') || text::upper(one) != text::lower(one);
        }));
    }
    if (name == "islower") return Value(text::lower(s) == s && text::upper(s) != s);
    if (name == "isupper") return Value(text::upper(s) == s && text::lower(s) != s);
    return std::nullopt;
}

// Mutating list methods: Hugging Face's immutable sandbox refuses them, but templates written
// for llama.cpp use `ns.items.append(x)`, so kiln allows them.
std::optional<Value> list_method(const Value& obj, const std::string& name, CallArgs& args) {
    List& list = obj.list();
    if (name == "append") {
        auto a = bind_args(name, args, {"item"});
        if (!a[0]) throw EvalError("append() takes one argument");
        reserve_list(list.size() + 1, 1);
        check_no_cycle(obj, *a[0]);
        list.push_back(std::move(*a[0]));
        return Value::none();
    }
    if (name == "extend") {
        auto a = bind_args(name, args, {"items"});
        if (!a[0]) throw EvalError("extend() takes one argument");
        List items = iterate(*a[0]);
        reserve_list(list.size() + items.size(), items.size());
        for (const Value& item : items) check_no_cycle(obj, item);
        list.insert(list.end(), items.begin(), items.end());
        return Value::none();
    }
    if (name == "insert") {
        auto a = bind_args(name, args, {"index", "item"});
        if (!a[1]) throw EvalError("insert() takes two arguments");
        reserve_list(list.size() + 1, 1);
        check_no_cycle(obj, *a[1]);
        int64_t n = static_cast<int64_t>(list.size()), i = opt_int(a[0], 0);
        if (i < 0) i = std::max<int64_t>(0, i + n);
        list.insert(list.begin() + std::min(i, n), std::move(*a[1]));
        return Value::none();
    }
    if (name == "pop") {
        auto a = bind_args(name, args, {"index"});
        int64_t n = static_cast<int64_t>(list.size()), i = opt_int(a[0], -1);
        if (i < 0) i += n;
        if (i < 0 || i >= n) throw EvalError("pop index out of range");
        Value v = list[static_cast<size_t>(i)];
        list.erase(list.begin() + i);
        return v;
    }
    if (name == "index" || name == "count") {
        auto a = bind_args(name, args, {"value"});
        if (!a[0]) throw EvalError(name + "() takes one argument");
        int64_t hits = 0;
        for (size_t i = 0; i < list.size(); ++i) {
            if (!equals(list[i], *a[0])) continue;
            if (name == "index") return Value(static_cast<int64_t>(i));
            ++hits;
        }
        if (name == "index") throw EvalError("value is not in list");
        return Value(hits);
    }
    if (name == "copy") {
        charge_items(list.size());
        return Value(List(list));
    }
    return std::nullopt;
}

std::optional<Value> dict_method(const Value& obj, const std::string& name, CallArgs& args) {
    Dict& dict = obj.dict();
    if (name == "items" || name == "keys" || name == "values") {
        bind_args(name, args, {});
        charge_items((name == "items" ? 3 : 1) * dict.items.size());
        List out;
        for (const auto& [k, v] : dict.items) {
            out.push_back(name == "items" ? Value(List{Value(k), v}) : (name == "keys" ? Value(k) : v));
        }
        return Value(std::move(out));
    }
    if (name == "get") {
        auto a = bind_args(name, args, {"key", "default"});
        if (!a[0]) throw EvalError("get() takes a key");
        if (a[0]->is_string()) {
            if (const Value* v = dict.find(a[0]->as_string())) return *v;
        }
        return a[1] ? *a[1] : Value::none();
    }
    if (name == "pop") {
        auto a = bind_args(name, args, {"key", "default"});
        if (!a[0] || !a[0]->is_string()) throw EvalError("pop() takes a string key");
        if (const Value* v = dict.find(a[0]->as_string())) {
            Value out = *v;
            dict.erase(a[0]->as_string());
            return out;
        }
        if (a[1]) return *a[1];
        throw EvalError("key " + repr(*a[0]) + " not found");
    }
    if (name == "update") {
        auto a = bind_args(name, args, {"other"});
        if (a[0] && a[0]->is_dict()) {
            charge_items(a[0]->dict().items.size());
            for (const auto& [k, v] : a[0]->dict().items) check_no_cycle(obj, v);
            for (const auto& [k, v] : a[0]->dict().items) dict.set(k, v);
        }
        return Value::none();
    }
    if (name == "copy") {
        charge_items(dict.items.size());
        return Value(Dict(dict));
    }
    return std::nullopt;
}

std::string format_date(const std::string& format, const std::tm& tm) {
    if (format.size() > 256) throw EvalError("strftime format too long");
    std::string out(format.size() * 16 + 64, '\0');
    size_t n = std::strftime(out.data(), out.size(), format.c_str(), &tm);
    out.resize(n);
    return out;
}

}  // namespace

std::optional<Value> call_method(const Value& obj, const std::string& name, CallArgs& args) {
    if (obj.is_string()) return string_method(obj.as_string(), name, args);
    if (obj.is_list()) return list_method(obj, name, args);
    if (obj.is_dict() && !obj.dict().is_namespace) return dict_method(obj, name, args);
    return std::nullopt;
}

void add_globals(Dict& globals) {
    globals.set("range", Value::callable("range", [](Interpreter&, CallArgs& args) {
        if (!args.keyword.empty()) throw EvalError("range() takes no keyword arguments");
        std::vector<int64_t> a;
        for (const Value& v : args.positional) {
            if (!v.is_int() && !v.is_bool()) throw EvalError("range() arguments must be integers, got " + type_name(v));
            a.push_back(v.is_bool() ? int64_t{v.as_bool()} : v.as_int());
        }
        if (a.empty() || a.size() > 3) throw EvalError("range() takes 1 to 3 arguments");
        int64_t start = a.size() == 1 ? 0 : a[0], stop = a.size() == 1 ? a[0] : a[1], step = a.size() == 3 ? a[2] : 1;
        if (step == 0) throw EvalError("range() arg 3 must not be zero");
        // Jinja2's sandbox refuses ranges over 100000 items (MAX_RANGE).
        double count = std::max(0.0, std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step)));
        if (count > 100000) throw EvalError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        charge_items(static_cast<size_t>(count));
        List out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
        return Value(std::move(out));
    }));
    globals.set("namespace", Value::callable("namespace", [](Interpreter&, CallArgs& args) {
        charge_items(args.keyword.size());
        Dict ns;
        ns.is_namespace = true;
        for (const Value& v : args.positional) {
            if (!v.is_dict()) throw EvalError("namespace() takes a mapping or keyword arguments");
            charge_items(v.dict().items.size());
            for (const auto& [k, item] : v.dict().items) ns.set(k, item);
        }
        for (auto& [k, v] : args.keyword) ns.set(k, v);
        return Value(std::move(ns));
    }));
    globals.set("dict", Value::callable("dict", [](Interpreter&, CallArgs& args) {
        Dict d;
        for (const Value& v : args.positional) {
            if (v.is_dict()) {
                charge_items(v.dict().items.size());
                for (const auto& [k, item] : v.dict().items) d.set(k, item);
            } else {
                for (const Value& pair : iterate(v)) {
                    List kv = iterate(pair);
                    if (kv.size() != 2 || !kv[0].is_string()) throw EvalError("dict() needs (string key, value) pairs");
                    d.set(kv[0].as_string(), kv[1]);
                }
            }
        }
        for (auto& [k, v] : args.keyword) d.set(k, v);
        return Value(std::move(d));
    }));
    globals.set("raise_exception", Value::callable("raise_exception", [](Interpreter&, CallArgs& args) -> Value {
        throw RaisedByTemplate(args.positional.empty() ? std::string() : to_str(args.positional[0]));
    }));
    globals.set("strftime_now", Value::callable("strftime_now", [](Interpreter& in, CallArgs& args) {
        auto a = bind_args("strftime_now", args, {"format"});
        if (!a[0] || !a[0]->is_string()) throw EvalError("strftime_now() takes a format string");
        std::tm tm{};
        if (in.fixed_date) {
            tm = *in.fixed_date;
        } else {
            std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
            localtime_r(&now, &tm);
        }
        return Value(format_date(a[0]->as_string(), tm));
    }));
}

}  // namespace kiln::jinja
