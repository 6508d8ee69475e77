#pragma once
// Python's operators on template values: arithmetic, `~`, containment, indexing and slicing,
// with Python's rules (floor division, modulo sign, negative indices, str * int) and Jinja2's
// (an out-of-range index is undefined, not an error).
// Each checks the size of what it builds against the string and list limits before allocating
// it, and charges its work to the render's budget (budget.h).
#include <string>

#include "models/chat/budget.h"
#include "models/chat/value.h"

namespace kiln::jinja {

// op: + - * / // % ** ~
Value binary_op(const std::string& op, const Value& a, const Value& b);
Value negate(const Value& v);
// `item in container`.
bool contains(const Value& container, const Value& item);
// obj[key] as Jinja2's getitem: undefined (with a hint) when absent; fails on undefined obj.
Value get_item(const Value& obj, const Value& key);
// obj.name as Jinja2's getattr: for dicts the key; fails on undefined obj.
Value get_attr(const Value& obj, const std::string& name);
// obj[start:stop:step]; null pointers stand for omitted bounds.
Value slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// The items a for loop visits: list elements, dict keys, string characters; none for undefined.
List iterate(const Value& v);
// Python's len(); undefined has length 0.
int64_t length_of(const Value& v);
// Checked int64 arithmetic, as Python's ints would not overflow.
int64_t checked_add(int64_t a, int64_t b);
int64_t checked_mul(int64_t a, int64_t b);

}  // namespace kiln::jinja
