#pragma once
// The two ways a template evaluation fails.
#include <stdexcept>
#include <string>

#include "graph/error.h"

namespace kiln::jinja {

// A failure without a position yet (raised by value operations and builtins): the evaluator
// adds the template name, line and column of the expression at fault and rethrows kiln::Error.
class EvalError : public std::runtime_error {
public:
    explicit EvalError(const std::string& message) : std::runtime_error(message) {}
};

// The template itself called raise_exception(message) — Jinja2's TemplateError. what() is the
// usual one-line "name:line:column: message"; message() is the template's text alone (the
// conversation, not the template, is usually at fault: "System role not supported").
class TemplateException : public Error {
public:
    TemplateException(const std::string& located_message, std::string message)
        : Error(located_message), message_(std::move(message)) {}
    const std::string& message() const { return message_; }

private:
    std::string message_;
};

// Thrown by raise_exception() before the evaluator knows the position.
class RaisedByTemplate : public EvalError {
public:
    explicit RaisedByTemplate(const std::string& message) : EvalError(message) {}
};

}  // namespace kiln::jinja
