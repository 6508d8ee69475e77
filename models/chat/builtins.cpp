// Filters and tests (Jinja2 3.1 semantics; `tojson` as Hugging Face defines it).
#include "models/chat/builtins.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "models/chat/evaluator.h"
#include "models/chat/json.h"
#include "models/chat/operators.h"
#include "models/chat/text.h"

namespace kiln::jinja {

std::vector<std::optional<Value>> bind_args(std::string_view function, CallArgs& args,
                                            std::initializer_list<std::string_view> params) {
    std::vector<std::optional<Value>> bound(params.size());
    if (args.positional.size() > params.size()) {
        throw EvalError(std::string(function) + "() takes at most " + std::to_string(params.size()) + " argument(s), " +
                        std::to_string(args.positional.size()) + " given");
    }
    for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = std::move(args.positional[i]);
    for (auto& [key, value] : args.keyword) {
        auto it = std::find(params.begin(), params.end(), key);
        if (it == params.end()) {
            throw EvalError(std::string(function) + "() got an unexpected keyword argument '" + key + "'");
        }
        size_t i = static_cast<size_t>(it - params.begin());
        if (bound[i]) throw EvalError(std::string(function) + "() got multiple values for argument '" + key + "'");
        bound[i] = std::move(value);
    }
    return bound;
}

namespace {

using FilterFn = std::function<Value(Interpreter&, Value&, CallArgs&)>;
using FilterTable = std::unordered_map<std::string, FilterFn>;
using TestFn = std::function<bool(Interpreter&, const Value&, CallArgs&)>;

std::optional<std::string> opt_string(const std::optional<Value>& v) {
    if (!v || v->is_none()) return std::nullopt;
    return to_str(*v);
}

bool opt_bool(const std::optional<Value>& v, bool dflt) { return v ? truthy(*v) : dflt; }

int64_t opt_int(const std::optional<Value>& v, int64_t dflt) {
    if (!v || v->is_none()) return dflt;
    if (v->is_int()) return v->as_int();
    if (v->is_bool()) return v->as_bool();
    throw EvalError("expected an integer argument, got " + type_name(*v));
}

// Jinja2's make_attrgetter: "a.b.0" looks up a, then b, then index 0.
Value attribute_of(const Value& item, const std::string& path) {
    Value cur = item;
    for (const std::string& part : text::split(path, std::string("."), -1)) {
        if (cur.is_undefined()) return cur;
        int64_t index = 0;
        auto res = std::from_chars(part.data(), part.data() + part.size(), index);
        bool numeric = !part.empty() && res.ec == std::errc() && res.ptr == part.data() + part.size();
        cur = numeric ? get_item(cur, Value(index)) : get_item(cur, Value(part));
    }
    return cur;
}

// Sort key for sort/unique/min/max: strings lowered unless case-sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
    return (!case_sensitive && v.is_string()) ? Value(text::lower(v.as_string())) : v;
}

std::string html_escape(const std::string& s) {
    reserve_string(s.size());
    std::string out;
    for (char c : s) {
        if (out.size() > kMaxStringBytes) check_string_size(out.size());  // each char adds at most 5
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// Python's int(str) / float(str) as Jinja2's int and float filters use them.
std::optional<int64_t> parse_int(std::string s, int base) {
    s = text::strip(s, std::nullopt, true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    bool negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.erase(0, 1);
    if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.erase(0, 2);
    if (s.empty()) return std::nullopt;
    int64_t v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
    return negative ? -v : v;
}

std::optional<double> parse_float(std::string s) {
    s = text::strip(s, std::nullopt, true, true);
    if (!s.empty() && s[0] == '+') s.erase(0, 1);
    std::string lowered = text::lower(s);
    if (lowered == "inf" || lowered == "infinity") return HUGE_VAL;
    if (lowered == "-inf" || lowered == "-infinity") return -HUGE_VAL;
    if (lowered == "nan" || lowered == "-nan") return std::nan("");
    double v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// select/reject/selectattr/rejectattr: a test name plus its arguments, or truthiness.
List select_items(Interpreter& in, const Value& seq, CallArgs& args, bool by_attribute, bool keep_matches) {
    std::string attribute;
    size_t first = 0;
    if (by_attribute) {
        if (args.positional.empty()) throw EvalError("selectattr/rejectattr need an attribute name");
        attribute = to_str(args.positional[0]);
        first = 1;
    }
    std::optional<std::string> test;
    CallArgs test_args;
    if (args.positional.size() > first) {
        test = to_str(args.positional[first]);
        test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                                    args.positional.end());
        test_args.keyword = args.keyword;
    }
    List out;
    for (const Value& item : iterate(seq)) {
        charge_items(1 + test_args.positional.size() + test_args.keyword.size());  // the arguments, copied
        Value probe = by_attribute ? attribute_of(item, attribute) : item;
        CallArgs a = test_args;
        bool match = test ? apply_test(in, *test, probe, a) : truthy(probe);
        if (match == keep_matches) out.push_back(item);
    }
    return out;
}

Value do_tojson(Value& v, CallArgs& args) {
    // Hugging Face's signature: tojson(x, ensure_ascii=False, indent=None, separators=None,
    // sort_keys=False) — json.dumps with those arguments.
    auto a = bind_args("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
    JsonOptions o;
    o.ensure_ascii = opt_bool(a[0], false);
    o.sort_keys = opt_bool(a[3], false);
    if (a[1] && !a[1]->is_none()) {
        if (a[1]->is_string()) {
            o.indent = a[1]->as_string();
        } else {
            int64_t n = opt_int(a[1], 0);
            o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(n, 0, 64)), ' ');
        }
        o.item_separator = ",";
    }
    if (a[2] && !a[2]->is_none()) {
        List seps = iterate(*a[2]);
        if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string()) {
            throw EvalError("tojson separators must be two strings");
        }
        o.item_separator = seps[0].as_string();
        o.key_separator = seps[1].as_string();
    }
    return Value(to_json(v, o));
}

Value do_indent(const Value& v, CallArgs& args) {
    auto a = bind_args("indent", args, {"width", "first", "blank"});
    std::string indention = a[0] && a[0]->is_string() ? a[0]->as_string()
                                                       : std::string(static_cast<size_t>(std::clamp<int64_t>(opt_int(a[0], 4), 0, 256)), ' ');
    std::string s = to_str(v) + "\n";  // as Jinja2: makes splitlines keep a trailing empty line
    std::vector<std::string> lines = text::splitlines(s);
    std::string out;
    auto put = [&out](std::string_view piece) {  // every line may gain 256 bytes: grow within the limit
        reserve_string(out.size() + piece.size(), piece.size());
        out += piece;
    };
    if (opt_bool(a[1], false)) put(indention);
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            put("\n");
            if (opt_bool(a[2], false) || !lines[i].empty()) put(indention);
        }
        put(lines[i]);
    }
    return Value(std::move(out));
}

Value do_round(const Value& v, CallArgs& args) {
    auto a = bind_args("round", args, {"precision", "method"});
    int64_t precision = opt_int(a[0], 0);
    std::string method = a[1] ? to_str(*a[1]) : "common";
    if (v.is_int() || v.is_bool()) return v.is_bool() ? Value(int64_t{v.as_bool()}) : v;
    double x = v.to_double(), scale = std::pow(10.0, static_cast<double>(precision));
    double r;
    if (method == "common") {
        r = std::nearbyint(x * scale) / scale;  // Python's round(): ties to even
    } else if (method == "ceil") {
        r = std::ceil(x * scale) / scale;
    } else if (method == "floor") {
        r = std::floor(x * scale) / scale;
    } else {
        throw EvalError("method must be common, ceil or floor");
    }
    return Value(r);
}

Value do_sort(const Value& v, CallArgs& args) {
    auto a = bind_args("sort", args, {"reverse", "case_sensitive", "attribute"});
    bool reverse = opt_bool(a[0], false), cs = opt_bool(a[1], false);
    std::optional<std::string> attr = opt_string(a[2]);
    List items = iterate(v);  // the comparisons charge themselves
    std::vector<std::pair<Value, Value>> keyed;
    for (Value& item : items) keyed.emplace_back(sort_key(attr ? attribute_of(item, *attr) : item, cs), item);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
        return reverse ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
    });
    List out;
    for (auto& [key, item] : keyed) out.push_back(std::move(item));
    return Value(std::move(out));
}

Value min_max(const Value& v, CallArgs& args, bool want_max) {
    auto a = bind_args(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
    bool cs = opt_bool(a[0], false);
    std::optional<std::string> attr = opt_string(a[1]);
    List items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
        int c = compare(sort_key(attr ? attribute_of(items[i], *attr) : items[i], cs),
                        sort_key(attr ? attribute_of(items[best], *attr) : items[best], cs));
        if (want_max ? c > 0 : c < 0) best = i;
    }
    return items[best];
}

// Filters on strings (other values are str()-ed first, as in Jinja2).
void add_string_filters(FilterTable& t) {
    t["capitalize"] = [](Interpreter&, Value& v, CallArgs&) { return Value(text::capitalize(to_str(v))); };
    t["center"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("center", args, {"width"});
        std::string s = to_str(v);
        int64_t width = std::min<int64_t>(opt_int(a[0], 80), 1 << 20), len = static_cast<int64_t>(text::length(s));
        if (width <= len) return Value(s);
        reserve_string(s.size() + static_cast<size_t>(width - len));
        int64_t pad = width - len, left = pad / 2 + (pad & width & 1);  // Python's centring
        return Value(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(pad - left), ' '));
    };
    t["escape"] = [](Interpreter&, Value& v, CallArgs&) { return Value(html_escape(to_str(v))); };
    t["e"] = t["escape"];
    t["forceescape"] = t["escape"];
    t["indent"] = [](Interpreter&, Value& v, CallArgs& args) { return do_indent(v, args); };
    t["lower"] = [](Interpreter&, Value& v, CallArgs&) { return Value(text::lower(to_str(v))); };
    t["upper"] = [](Interpreter&, Value& v, CallArgs&) { return Value(text::upper(to_str(v))); };
    t["title"] = [](Interpreter&, Value& v, CallArgs&) { return Value(text::title(to_str(v))); };
    t["replace"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("replace", args, {"old", "new", "count"});
        if (!a[0] || !a[1]) throw EvalError("replace() needs old and new strings");
        std::string s = to_str(v), from = to_str(*a[0]), to = to_str(*a[1]);
        return Value(text::replace(s, from, to, opt_int(a[2], -1)));
    };
    t["safe"] = [](Interpreter&, Value& v, CallArgs&) { return v; };
    t["string"] = [](Interpreter&, Value& v, CallArgs&) { return Value(to_str(v)); };
    t["trim"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("trim", args, {"chars"});
        return Value(text::strip(to_str(v), opt_string(a[0]), true, true));
    };
    t["wordcount"] = [](Interpreter&, Value& v, CallArgs&) {
        return Value(static_cast<int64_t>(text::split(to_str(v), std::nullopt, -1).size()));
    };
}

// Filters that make or round numbers.
void add_number_filters(FilterTable& t) {
    t["abs"] = [](Interpreter&, Value& v, CallArgs&) {
        if (v.is_float()) return Value(std::fabs(v.as_float()));
        int64_t i = v.is_bool() ? int64_t{v.as_bool()} : (v.is_int() ? v.as_int() : negate(v).as_int());
        return i < 0 ? negate(Value(i)) : Value(i);
    };
    t["float"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("float", args, {"default"});
        Value dflt = a[0] ? *a[0] : Value(0.0);
        if (v.is_number()) return Value(v.to_double());
        if (v.is_string()) {
            if (auto f = parse_float(v.as_string())) return Value(*f);
        }
        return dflt;
    };
    t["int"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("int", args, {"default", "base"});
        Value dflt = a[0] ? *a[0] : Value(0);
        if (v.is_int()) return v;
        if (v.is_bool()) return Value(int64_t{v.as_bool()});
        if (v.is_float()) {
            double f = v.as_float();
            if (!std::isfinite(f) || std::fabs(f) > 9.2e18) return dflt;
            return Value(static_cast<int64_t>(f));
        }
        if (v.is_string()) {
            int base = static_cast<int>(std::clamp<int64_t>(opt_int(a[1], 10), 2, 36));
            if (auto i = parse_int(v.as_string(), base)) return Value(*i);
            if (auto f = parse_float(v.as_string()); f && std::isfinite(*f) && std::fabs(*f) < 9.2e18) {
                return Value(static_cast<int64_t>(*f));
            }
        }
        return dflt;
    };
    t["round"] = [](Interpreter&, Value& v, CallArgs& args) { return do_round(v, args); };
}

// Filters over a sequence's items.
void add_sequence_filters(FilterTable& t) {
    // Strings by index: listing their characters would cost an allocation per character.
    t["first"] = [](Interpreter&, Value& v, CallArgs&) {
        if (v.is_list()) return v.list().empty() ? Value::undefined("No first item, sequence was empty.") : v.list()[0];
        if (v.is_string() && !v.as_string().empty()) return get_item(v, Value(0));
        List items = iterate(v);
        return items.empty() ? Value::undefined("No first item, sequence was empty.") : items[0];
    };
    t["last"] = [](Interpreter&, Value& v, CallArgs&) {
        if (v.is_list()) return v.list().empty() ? Value::undefined("No last item, sequence was empty.") : v.list().back();
        if (v.is_string() && !v.as_string().empty()) return get_item(v, Value(-1));
        List items = iterate(v);
        return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
    };
    t["join"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("join", args, {"d", "attribute"});
        std::string sep = a[0] ? to_str(*a[0]) : "";
        std::optional<std::string> attr = opt_string(a[1]);
        std::string out;
        bool first = true;
        for (const Value& item : iterate(v)) {
            Value part = attr ? attribute_of(item, *attr) : item;
            std::string converted = part.is_string() ? std::string() : to_str(part);
            const std::string& piece = part.is_string() ? part.as_string() : converted;
            size_t added = (first ? 0 : sep.size()) + piece.size();
            reserve_string(out.size() + added, added);
            if (!first) out += sep;
            first = false;
            out += piece;
        }
        return Value(std::move(out));
    };
    t["length"] = [](Interpreter&, Value& v, CallArgs&) { return Value(length_of(v)); };
    t["count"] = t["length"];
    t["list"] = [](Interpreter&, Value& v, CallArgs&) { return Value(iterate(v)); };
    t["max"] = [](Interpreter&, Value& v, CallArgs& args) { return min_max(v, args, true); };
    t["min"] = [](Interpreter&, Value& v, CallArgs& args) { return min_max(v, args, false); };
    t["reverse"] = [](Interpreter&, Value& v, CallArgs&) {
        if (v.is_string()) {
            Value step(-1);
            return slice(v, nullptr, nullptr, &step);
        }
        List items = iterate(v);
        std::reverse(items.begin(), items.end());
        return Value(std::move(items));
    };
    t["sort"] = [](Interpreter&, Value& v, CallArgs& args) { return do_sort(v, args); };
    t["sum"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("sum", args, {"attribute", "start"});
        std::optional<std::string> attr = opt_string(a[0]);
        Value total = a[1] ? *a[1] : Value(0);
        for (const Value& item : iterate(v)) total = binary_op("+", total, attr ? attribute_of(item, *attr) : item);
        return total;
    };
    t["unique"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("unique", args, {"case_sensitive", "attribute"});
        bool cs = opt_bool(a[0], false);
        std::optional<std::string> attr = opt_string(a[1]);
        List out, seen;
        for (const Value& item : iterate(v)) {
            Value key = sort_key(attr ? attribute_of(item, *attr) : item, cs);
            if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return Value(std::move(out));
    };
}

// Filters that apply another filter or a test to each item, or read an attribute of it.
void add_selection_filters(FilterTable& t) {
    t["map"] = [](Interpreter& in, Value& v, CallArgs& args) {
        List out;
        const Value* attribute = nullptr;
        const Value* dflt = nullptr;
        for (const auto& [k, val] : args.keyword) {
            if (k == "attribute") attribute = &val;
            if (k == "default") dflt = &val;
        }
        if (attribute) {
            std::string path = to_str(*attribute);
            for (const Value& item : iterate(v)) {
                charge_work(1);
                Value r = attribute_of(item, path);
                out.push_back(r.is_undefined() && dflt ? *dflt : r);
            }
            return Value(std::move(out));
        }
        if (args.positional.empty()) throw EvalError("map() needs a filter name or attribute=");
        std::string filter = to_str(args.positional[0]);
        charge_items(args.positional.size());
        CallArgs rest;
        rest.positional.assign(args.positional.begin() + 1, args.positional.end());
        rest.keyword = args.keyword;
        for (const Value& item : iterate(v)) {
            charge_items(1 + rest.positional.size() + rest.keyword.size());  // the arguments, copied
            CallArgs a = rest;
            out.push_back(apply_filter(in, filter, item, a));
        }
        return Value(std::move(out));
    };
    t["reject"] = [](Interpreter& in, Value& v, CallArgs& args) { return Value(select_items(in, v, args, false, false)); };
    t["select"] = [](Interpreter& in, Value& v, CallArgs& args) { return Value(select_items(in, v, args, false, true)); };
    t["rejectattr"] = [](Interpreter& in, Value& v, CallArgs& args) { return Value(select_items(in, v, args, true, false)); };
    t["selectattr"] = [](Interpreter& in, Value& v, CallArgs& args) { return Value(select_items(in, v, args, true, true)); };
}

// Filters on any value: defaults, attributes, mappings, and repr/JSON out.
void add_value_filters(FilterTable& t) {
    t["attr"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("attr", args, {"name"});
        return get_attr(v, a[0] ? to_str(*a[0]) : "");
    };
    t["default"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("default", args, {"default_value", "boolean"});
        bool use_default = v.is_undefined() || (opt_bool(a[1], false) && !truthy(v));
        return use_default ? (a[0] ? *a[0] : Value(std::string())) : v;
    };
    t["d"] = t["default"];
    t["dictsort"] = [](Interpreter&, Value& v, CallArgs& args) {
        auto a = bind_args("dictsort", args, {"case_sensitive", "by", "reverse"});
        if (!v.is_dict()) throw EvalError("dictsort expects a mapping");
        charge_items(3 * v.dict().items.size());  // a pair list per item
        bool cs = opt_bool(a[0], false), by_value = a[1] && to_str(*a[1]) == "value", rev = opt_bool(a[2], false);
        List pairs;
        for (const auto& [k, item] : v.dict().items) pairs.push_back(Value(List{Value(k), item}));
        std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
            int c = compare(sort_key(x.list()[by_value], cs), sort_key(y.list()[by_value], cs));
            return rev ? c > 0 : c < 0;
        });
        return Value(std::move(pairs));
    };
    t["items"] = [](Interpreter&, Value& v, CallArgs&) {
        if (v.is_undefined()) return Value(List{});
        if (!v.is_dict()) throw EvalError("Can only get item pairs from a mapping.");
        charge_items(3 * v.dict().items.size());  // a pair list per item
        List pairs;
        for (const auto& [k, item] : v.dict().items) pairs.push_back(Value(List{Value(k), item}));
        return Value(std::move(pairs));
    };
    t["pprint"] = [](Interpreter&, Value& v, CallArgs&) { return Value(repr(v)); };
    t["tojson"] = [](Interpreter&, Value& v, CallArgs& args) { return do_tojson(v, args); };
}

const FilterTable& filters() {
    static const FilterTable table = [] {
        FilterTable t;
        add_string_filters(t);
        add_number_filters(t);
        add_sequence_filters(t);
        add_selection_filters(t);
        add_value_filters(t);
        return t;
    }();
    return table;
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

const Value& one_arg(const char* test, CallArgs& args) {
    if (args.positional.size() != 1 || !args.keyword.empty()) {
        throw EvalError(std::string("test '") + test + "' takes exactly one argument");
    }
    return args.positional[0];
}

const std::unordered_map<std::string, TestFn>& tests() {
    static const std::unordered_map<std::string, TestFn> table = [] {
        std::unordered_map<std::string, TestFn> t;
        t["defined"] = [](Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); };
        t["undefined"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); };
        t["none"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_none(); };
        t["boolean"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool(); };
        t["true"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); };
        t["false"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); };
        t["integer"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_int(); };
        t["float"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_float(); };
        t["number"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_number(); };
        t["string"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_string(); };
        t["mapping"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_dict() && !v.dict().is_namespace; };
        // Jinja2's Undefined is iterable (empty) and has a length, so both tests accept it.
        t["iterable"] = [](Interpreter&, const Value& v, CallArgs&) {
            return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
        };
        t["sequence"] = t["iterable"];
        t["callable"] = [](Interpreter&, const Value& v, CallArgs&) { return v.is_callable(); };
        t["escaped"] = [](Interpreter&, const Value&, CallArgs&) { return false; };
        t["lower"] = [](Interpreter&, const Value& v, CallArgs&) {
            std::string s = to_str(v);
            return text::lower(s) == s && text::upper(s) != s;
        };
        t["upper"] = [](Interpreter&, const Value& v, CallArgs&) {
            std::string s = to_str(v);
            return text::upper(s) == s && text::lower(s) != s;
        };
        t["sameas"] = [](Interpreter&, const Value& v, CallArgs& args) {
            const Value& other = one_arg("sameas", args);
            if (v.is_list() || v.is_dict()) return v.same_object(other);
            return v.kind() == other.kind() && equals(v, other);  // None, True, False and small values
        };
        t["in"] = [](Interpreter&, const Value& v, CallArgs& args) { return contains(one_arg("in", args), v); };
        t["divisibleby"] = [](Interpreter&, const Value& v, CallArgs& args) {
            const Value& n = one_arg("divisibleby", args);
            if (!n.is_number() || n.to_double() == 0) throw EvalError("divisibleby needs a non-zero number");
            return binary_op("%", v, n).to_double() == 0;
        };
        t["even"] = [](Interpreter&, const Value& v, CallArgs&) {
            if (!is_integral(v)) throw EvalError("test 'even' needs an integer");
            return binary_op("%", v, Value(2)).as_int() == 0;
        };
        t["odd"] = [](Interpreter&, const Value& v, CallArgs&) {
            if (!is_integral(v)) throw EvalError("test 'odd' needs an integer");
            return binary_op("%", v, Value(2)).as_int() == 1;
        };
        t["eq"] = [](Interpreter&, const Value& v, CallArgs& args) { return equals(v, one_arg("eq", args)); };
        t["ne"] = [](Interpreter&, const Value& v, CallArgs& args) { return !equals(v, one_arg("ne", args)); };
        t["lt"] = [](Interpreter&, const Value& v, CallArgs& args) { return compare(v, one_arg("lt", args)) < 0; };
        t["le"] = [](Interpreter&, const Value& v, CallArgs& args) { return compare(v, one_arg("le", args)) <= 0; };
        t["gt"] = [](Interpreter&, const Value& v, CallArgs& args) { return compare(v, one_arg("gt", args)) > 0; };
        t["ge"] = [](Interpreter&, const Value& v, CallArgs& args) { return compare(v, one_arg("ge", args)) >= 0; };
        t["equalto"] = t["eq"];
        t["=="] = t["eq"];
        t["!="] = t["ne"];
        t["lessthan"] = t["lt"];
        t["<"] = t["lt"];
        t["<="] = t["le"];
        t["greaterthan"] = t["gt"];
        t[">"] = t["gt"];
        t[">="] = t["ge"];
        return t;
    }();
    return table;
}

}  // namespace

bool has_filter(std::string_view name) { return filters().count(std::string(name)) > 0; }
bool has_test(std::string_view name) { return tests().count(std::string(name)) > 0; }

Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args) {
    check_stack();  // map('map', 'map', ...) recurses once per argument
    auto it = filters().find(name);
    if (it == filters().end()) throw EvalError("no filter named '" + name + "'");
    return it->second(in, input, args);
}

bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
    auto it = tests().find(name);
    if (it == tests().end()) throw EvalError("no test named '" + name + "'");
    return it->second(in, input, args);
}

}  // namespace kiln::jinja
