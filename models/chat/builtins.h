#pragma once
// What templates call by name: filters (`x | trim`), tests (`x is defined`), methods of str,
// list and dict (`s.strip()`), and globals (range, namespace, dict, raise_exception,
// strftime_now). Semantics follow Jinja2 3.1 and Python; see README.md for the list.
#include <optional>
#include <string>
#include <string_view>

#include "models/chat/value.h"

namespace kiln::jinja {

bool has_filter(std::string_view name);
bool has_test(std::string_view name);

// Throw EvalError for bad arguments (the evaluator adds the position).
Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);

// obj.name(args) for str, list and dict methods; nullopt when `obj` has no such method.
std::optional<Value> call_method(const Value& obj, const std::string& name, CallArgs& args);

// The global functions, into the frame beneath the template's variables.
void add_globals(Dict& globals);

// Binds call arguments to parameter names as Python does (positional, then by keyword):
// absent parameters stay nullopt; too many arguments or unknown keywords throw EvalError.
std::vector<std::optional<Value>> bind_args(std::string_view function, CallArgs& args,
                                            std::initializer_list<std::string_view> params);

}  // namespace kiln::jinja
