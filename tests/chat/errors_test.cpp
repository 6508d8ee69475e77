// Bad templates and hostile ones: every failure is one kiln::Error line naming the template,
// line and column; nothing crashes, hangs or grows without bound.
#include <gtest/gtest.h>

#include "chat/json_value.h"
#include "models/chat/chat_template.h"

namespace kiln {
namespace {

// The error message of parsing and rendering `source` ("" when it rendered).
std::string error_of(const std::string& source, const jinja::RenderLimits& limits = {}) {
    try {
        ChatTemplate t = ChatTemplate::parse(source, "bad.jinja");
        t.render(jinja::Dict{}, limits);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_TEMPLATE_ERROR(source, where, fragment)                                      \
    do {                                                                                    \
        std::string msg_ = error_of(source);                                                \
        EXPECT_EQ(msg_.rfind(std::string("bad.jinja:") + where + ": ", 0), 0u) << msg_;     \
        EXPECT_NE(msg_.find(fragment), std::string::npos) << msg_;                          \
        EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;                              \
    } while (0)

// Found by tests/fuzz/fuzz_chat_template (corpus/chat_template/crash-raise-newline): the
// template's own text went into what() as is, so a newline in it made a two-line error.
TEST(ChatErrors, RaisedTextWithANewlineStaysOnOneLine) {
    EXPECT_TEMPLATE_ERROR("{{ raise_exception('a\\nb') }}", "1:4", "a\\nb");
    try {
        ChatTemplate::parse("{{ raise_exception('a\\nb') }}", "bad.jinja").render(jinja::Dict{});
        ADD_FAILURE() << "rendered";
    } catch (const jinja::TemplateException& e) {
        EXPECT_EQ(e.message(), "a\nb");  // the text itself, for the conversation's caller
    }
}

TEST(ChatErrors, SyntaxErrorsNameLineAndColumn) {
    EXPECT_TEMPLATE_ERROR("{% if %}", "1:7", "unexpected end of statement");
    EXPECT_TEMPLATE_ERROR("a\n{{ 1 + }}", "2:8", "unexpected end of print statement");
    EXPECT_TEMPLATE_ERROR("x\n  {% if true %}\nyes", "2:3", "unclosed 'if' block");
    EXPECT_TEMPLATE_ERROR("{% endfor %}", "1:4", "unknown tag 'endfor'");
    EXPECT_TEMPLATE_ERROR("{% for x in y %}{% endif %}", "1:20", "unknown tag 'endif'");
    EXPECT_TEMPLATE_ERROR("ok\n{{ 'abc }}", "2:4", "unterminated string");
    EXPECT_TEMPLATE_ERROR("{{ x ", "1:1", "unclosed '{{' tag");
    EXPECT_TEMPLATE_ERROR("{# never closed", "1:1", "unclosed comment");
    EXPECT_TEMPLATE_ERROR("{{ x | nofilter }}", "1:8", "no filter named 'nofilter'");
    EXPECT_TEMPLATE_ERROR("{{ x is nottest }}", "1:6", "no test named 'nottest'");
    EXPECT_TEMPLATE_ERROR("{% break %}", "1:4", "outside of a loop");
    EXPECT_TEMPLATE_ERROR("{% include 'x' %}", "1:4", "not supported");
    EXPECT_TEMPLATE_ERROR("{{ a $ b }}", "1:6", "unexpected character '$'");
    EXPECT_TEMPLATE_ERROR("日本 {{ ) }}", "1:7", "unexpected ')'");  // columns count characters
}

TEST(ChatErrors, RuntimeErrorsNameTheExpression) {
    EXPECT_TEMPLATE_ERROR("line\n{{ 'a' + 1 }}", "2:8", "can only concatenate str");
    EXPECT_TEMPLATE_ERROR("{{ missing.attr }}", "1:4", "'missing' is undefined");
    EXPECT_TEMPLATE_ERROR("{{ 'x' + missing }}", "1:8", "'missing' is undefined");
    EXPECT_TEMPLATE_ERROR("{{ 1 // 0 }}", "1:6", "division or modulo by zero");
    EXPECT_TEMPLATE_ERROR("{% for x in none %}{% endfor %}", "1:13", "'NoneType' object is not iterable");
    EXPECT_TEMPLATE_ERROR("{% set x = 1 %}{% set x.a = 2 %}", "1:16", "non-namespace");
    EXPECT_TEMPLATE_ERROR("{{ 1 < 'a' }}", "1:4", "'<' not supported");
    EXPECT_TEMPLATE_ERROR("{{ {}|tojson }}{{ missing|tojson }}", "1:27", "not JSON serializable");
    EXPECT_TEMPLATE_ERROR("{{ 9223372036854775807 + 1 }}", "1:24", "integer overflow");
}

TEST(ChatErrors, RaiseExceptionCarriesTheTemplatesMessage) {
    ChatTemplate t = ChatTemplate::parse("a\n{% if x %}{{ raise_exception('Roles must alternate ' ~ x) }}{% endif %}",
                                         "t.jinja");
    jinja::Dict vars;
    vars.set("x", jinja::Value(3));
    try {
        t.render(vars);
        FAIL() << "no exception";
    } catch (const jinja::TemplateException& e) {
        EXPECT_EQ(e.message(), "Roles must alternate 3");
        EXPECT_STREQ(e.what(), "t.jinja:2:14: Roles must alternate 3");
    }
}

TEST(ChatErrors, LimitsStopHostileTemplates) {
    EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested deeper than"), std::string::npos);
    EXPECT_NE(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                  .find("work limit"),
              std::string::npos);
    EXPECT_NE(error_of("{{ range(1000000)|list }}").find("Range too big"), std::string::npos);
    EXPECT_NE(error_of("{{ 'a' * 10000000000 }}").find("too large"), std::string::npos);
    EXPECT_NE(error_of("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
                       "{% endfor %}")
                  .find("too large"),
              std::string::npos);
    EXPECT_NE(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}"
                       "{% endfor %}")
                  .find("limit"),  // the work limit, before the list limit
              std::string::npos);
    jinja::RenderLimits small;
    small.max_output_bytes = 1000;
    EXPECT_NE(error_of("{% for i in range(10000) %}xxxxxxxx{% endfor %}", small).find("output exceeds"),
              std::string::npos);
    // A list or namespace that contains itself would never be freed (nor print in finite time).
    EXPECT_NE(error_of("{% set l = [] %}{% do l.append(l) %}").find("cannot contain itself"), std::string::npos);
    EXPECT_NE(error_of("{% set ns = namespace(l=[]) %}{% do ns.l.append([ns]) %}").find("cannot contain itself"),
              std::string::npos);
    EXPECT_NE(error_of("{% set ns = namespace() %}{% set ns.me = {'x': [ns]} %}").find("cannot contain itself"),
              std::string::npos);
}

TEST(ChatErrors, DeepNestingIsAnErrorNotAStackOverflow) {
    EXPECT_NE(error_of("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}").find("nested too deeply"),
              std::string::npos);
    EXPECT_NE(error_of("{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}").find("nested too deeply"),
              std::string::npos);
    std::string ifs;
    for (int i = 0; i < 10000; ++i) ifs += "{% if true %}";
    EXPECT_NE(error_of(ifs).find("nested too deeply"), std::string::npos);
    std::string nots = "{{ " ;
    for (int i = 0; i < 100000; ++i) nots += "not ";
    EXPECT_NE(error_of(nots + "x }}").find("nested too deeply"), std::string::npos);
    EXPECT_NE(error_of("{{ x" + std::string(100000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
}

TEST(ChatErrors, GarbageNeverCrashes) {
    // Cut every real-looking template at every position: each prefix parses or fails cleanly.
    const std::string source =
        "{%- set ns = namespace(a=1, b=[1, 'x']) -%}{% for m in messages if m.role != 'x' %}"
        "{{- m['content'] | trim ~ ns.b[1:] -}}{# c #}{% if loop.last %}{{ (m|tojson(indent=2))[:-1] }}"
        "{% elif m is defined %}{% raw %}{{{% endraw %}{% endif %}{% endfor %}";
    for (size_t n = 0; n <= source.size(); ++n) {
        try {
            ChatTemplate t = ChatTemplate::parse(source.substr(0, n), "cut.jinja");
            jinja::Dict vars;
            vars.set("messages", test::parse_json(R"([{"role": "user", "content": " hi "}])"));
            t.render(vars);
        } catch (const Error&) {
        }
    }
    SUCCEED();
}

}  // namespace
}  // namespace kiln
