// The Jinja subset, construct by construct. Expected strings are what Jinja2 3.1 renders with
// Hugging Face's settings (trim_blocks, lstrip_blocks), checked against it while writing.
#include <gtest/gtest.h>

#include "chat/json_value.h"
#include "models/chat/chat_template.h"

namespace kiln {
namespace {

// Renders `source` with variables given as JSON.
std::string render(const std::string& source, const std::string& vars_json = "{}") {
    ChatTemplate t = ChatTemplate::parse(source, "test.jinja");
    jinja::Value vars = test::parse_json(vars_json);
    return t.render(vars.dict());
}

TEST(ChatInterpreter, TextAndExpressions) {
    EXPECT_EQ(render("plain text"), "plain text");
    EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }}"),
              "7 9 3 -4 2 3.5");
    EXPECT_EQ(render("{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}"), "64 4");  // Jinja2: left-assoc, unary first
    EXPECT_EQ(render("{{ 1.0 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 0.1 + 0.2 }} {{ 100.0 }}"),
              "1.0 1e+16 1.5e-05 0.30000000000000004 100.0");
    EXPECT_EQ(render("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 2 }} {{ [1] + [2] }}"), "a1NoneTrue abab [1, 2]");
    EXPECT_EQ(render("{{ [1, 'a', none, true] }} {{ {'k': \"it's\"} }}"), "[1, 'a', None, True] {'k': \"it's\"}");
    EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' in 'cat' }}"),
              "True False True True True");
    EXPECT_EQ(render("{{ 'a' and 'b' }} {{ '' or 'c' }} {{ not 0 }} {{ 'y' if x else 'n' }}", R"({"x": 0})"),
              "b c True n");
    EXPECT_EQ(render("{{ \"a\" 'b' }} {{ '\\u00fc\\n'|length }}"), "ab 2");
}

TEST(ChatInterpreter, StringsCountCodePoints) {
    const std::string vars = R"({"u": "Grüße 日本 🦙"})";
    EXPECT_EQ(render("{{ u|length }} {{ u[0] }} {{ u[-1] }} {{ u[1:4] }} {{ u[::-1] }}", vars),
                     "10 G 🦙 rüß 🦙 本日 eßürG");
    EXPECT_EQ(render("{{ u|upper }}", vars), "GRÜSSE 日本 🦙");
}

TEST(ChatInterpreter, WhitespaceControl) {
    // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
    EXPECT_EQ(render("a\n  {% if true %}\n  b\n  {% endif %}\nc"), "a\n  b\nc");
    EXPECT_EQ(render("a\n  {# comment #}\nb"), "a\nb");
    EXPECT_EQ(render("x  {% if true %}y{% endif %}"), "x  y");  // not at a line start: kept
    EXPECT_EQ(render("{{ 'v' }}\n{{ 'w' }}"), "v\nw");            // print tags trim nothing
    EXPECT_EQ(render("a  \n {{- 'b' -}} \n  c"), "abc");
    EXPECT_EQ(render("{%- if true -%}\n  a  \n{%- endif -%}\n b"), "ab");
    EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");         // + keeps the indentation
    EXPECT_EQ(render("{% if true +%}\nkeep{% endif %}"), "\nkeep");   // + keeps the newline
    EXPECT_EQ(render("end\n"), "end");                                // one trailing newline dropped
    EXPECT_EQ(render("end\r\nnext\r\n\r\n"), "end\nnext\n");
    EXPECT_EQ(render("  {% raw %}{{ x }}{% endraw %}"), "{{ x }}");
}

TEST(ChatInterpreter, Loops) {
    EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}"
                     "{{ loop.last }}{{ loop.length }} {% endfor %}"),
              "103TrueFalse3 212FalseFalse3 321FalseTrue3 ");
    EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", R"({"d": {"b": 1, "a": 2}})"),
              "b=1;a=2;");
    EXPECT_EQ(render("{% for k in d %}{{ k }}{% endfor %}", R"({"d": {"b": 1, "a": 2}})"), "ba");
    EXPECT_EQ(render("{% for x in [3, 1, 2] if x > 1 %}{{ x }}/{{ loop.length }} {% endfor %}"), "3/2 2/2 ");
    EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
    EXPECT_EQ(render("{% for x in undefined_thing %}x{% endfor %}"), "");
    EXPECT_EQ(render("{% for i in range(6) %}{% if i == 4 %}{% break %}{% endif %}{% if i is odd %}{% continue %}"
                     "{% endif %}{{ i }}{% endfor %}"),
              "02");
    EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.previtem }}|{{ loop.cycle('a', 'b') }} {% endfor %}"),
              "|a 1|b 2|a ");
}

TEST(ChatInterpreter, ScopingFollowsJinja) {
    // A loop iteration is its own scope; `if` is not; namespace() carries state out of loops.
    EXPECT_EQ(render("{% set x = 1 %}{% for i in [5] %}{% set x = i %}{% endfor %}{{ x }}"), "1");
    EXPECT_EQ(render("{% for i in range(3) %}{% if i == 0 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}"),
              "[5][][]");
    EXPECT_EQ(render("{% if true %}{% set x = 2 %}{% endif %}{{ x }}"), "2");
    EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}"
                     "{{ ns.n }}"),
              "6");
    EXPECT_EQ(render("{% set a, b = [1, 2] %}{{ b }}{{ a }}"), "21");
    EXPECT_EQ(render("{% with q = 5 %}{{ q }}{% endwith %}[{{ q }}]"), "5[]");
    EXPECT_EQ(render("{% set messages = messages[1:] %}{{ messages|length }}", R"({"messages": [1, 2, 3]})"), "2");
}

TEST(ChatInterpreter, Macros) {
    EXPECT_EQ(render("{% macro f(a, b=2) %}[{{ a }}-{{ b }}]{% endmacro %}{{ f(1) }}{{ f(1, 3) }}{{ f(b=5, a=0) }}"
                     "{{ f() }}"),
              "[1-2][1-3][0-5][-2]");
    // Names are looked up when the macro runs.
    EXPECT_EQ(render("{% set x = 1 %}{% macro show() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ show() }}"), "2");
    EXPECT_EQ(render("{% macro outer() %}<{{ inner() }}>{% endmacro %}{% macro inner() %}in{% endmacro %}"
                     "{{ outer() }}"),
              "<in>");
    EXPECT_EQ(render("{% set x %} block {{ 1 }} {% endset %}[{{ x }}]"), "[ block 1 ]");
    EXPECT_EQ(render("{% set x | upper %}abc{% endset %}{{ x }}{% filter trim %}  t  {% endfilter %}"), "ABCt");
}

TEST(ChatInterpreter, UndefinedBehavesAsJinjaDefault) {
    EXPECT_EQ(render("[{{ nothing }}]{{ nothing is defined }}{{ nothing|length }}{{ nothing|default('d') }}"),
              "[]False0d");
    EXPECT_EQ(render("{{ m.missing is defined }}{{ m['missing'] is undefined }}", R"({"m": {"a": 1}})"), "FalseTrue");
    EXPECT_EQ(render("{{ 'x' in nothing }}{{ not nothing }}{{ nothing|string }}|{{ nothing ~ 'a' }}"), "FalseTrue|a");
    EXPECT_EQ(render("{{ none.attr is defined }}{{ [1][7] is defined }}{{ 'abc'[9] is defined }}"),
              "FalseFalseFalse");
    EXPECT_EQ(render("{{ nothing is iterable }}{{ nothing is sequence }}{{ nothing is mapping }}"), "TrueTrueFalse");
}

TEST(ChatInterpreter, MethodsTemplatesUse) {
    const std::string vars = R"({"s": "  Hello World  "})";
    EXPECT_EQ(render("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|", vars),
              "Hello World|Hello World  |  Hello World|");
    EXPECT_EQ(render("{{ s.split() }} {{ s.split('o', 1) }} {{ s.rsplit('o', 1) }}", vars),
              "['Hello', 'World'] ['  Hell', ' World  '] ['  Hello W', 'rld  ']");
    EXPECT_EQ(render("{{ 'a</think>\\n\\nb'.split('</think>')[-1].lstrip('\\n') }}"), "b");
    EXPECT_EQ(render("{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'a-b'.replace('-', '+') }}"
                     "{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ ','.join(['x', 'y']) }}"),
              "TrueTruea+bABabx,y");
    EXPECT_EQ(render("{{ d.get('a') }}{{ d.get('z', 0) }}{{ d.get('z') }}{{ d.keys()|list }}{{ d.values()|list }}",
                     R"({"d": {"a": 1}})"),
              "10None['a'][1]");
    EXPECT_EQ(render("{% set ns = namespace(l=[]) %}{% for i in range(3) %}{% do ns.l.append(i) %}{% endfor %}"
                     "{{ ns.l }}"),
              "[0, 1, 2]");
}

TEST(ChatInterpreter, Filters) {
    EXPECT_EQ(render("{{ '  x  '|trim }}|{{ [1, 2]|length }}|{{ 'aB'|lower }}{{ 'aB'|upper }}|{{ [3, 1]|first }}"
                     "{{ [3, 1]|last }}|{{ [1, 2]|join('-') }}|{{ 'ab'|list }}|{{ 3|string ~ '' }}"),
              "x|2|abAB|31|1-2|['a', 'b']|3");
    EXPECT_EQ(render("{{ '3'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int }} {{ '2.5'|float }} {{ 2.5|round }} {{ 3.14159|round(2) }}"),
              "4 3 0 2.5 2.0 3.14");
    EXPECT_EQ(render("{{ m|selectattr('role', 'equalto', 'user')|map(attribute='c')|join }}"
                     "{{ m|rejectattr('role', 'eq', 'user')|list|length }}",
                     R"({"m": [{"role": "user", "c": "a"}, {"role": "bot", "c": "b"}, {"role": "user", "c": "c"}]})"),
              "ac1");
    EXPECT_EQ(render("{{ ['a', 'code', 'b']|reject('equalto', 'code')|join(', ') }} {{ [1, 2, 3]|select('odd')|list }}"
                     " {{ ['a', 'b']|map('upper')|list }}"),
              "a, b [1, 3] ['A', 'B']");
    EXPECT_EQ(render("{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ [1, 1, 2]|unique|list }} {{ [1, 2]|sum }}"
                     " {{ [1, 5]|max }} {{ 'ab'|reverse }}"),
              "[1, 2, 3] ['A', 'a', 'b'] [1, 2] 3 5 ba");
    EXPECT_EQ(render("{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}{{ nothing|items|list }}", R"({"d": {"a": 1}})"),
              "a1[]");
    EXPECT_EQ(render("{{ 'a\\nb\\n'|indent(2) }}|{{ 'a\\n\\nb'|indent(2, true) }}"), "a\n  b\n|  a\n\n  b");
}

TEST(ChatInterpreter, ToJsonIsPythonJsonDumps) {
    const std::string vars = R"({"d": {"b": 1, "a": [1, 2.5, null, true, "ü\"\n"]}})";
    EXPECT_EQ(render("{{ d|tojson }}", vars), R"({"b": 1, "a": [1, 2.5, null, true, "ü\"\n"]})");
    EXPECT_EQ(render("{{ d|tojson(sort_keys=true) }}", vars), R"({"a": [1, 2.5, null, true, "ü\"\n"], "b": 1})");
    EXPECT_EQ(render("{{ d|tojson(ensure_ascii=true) }}", vars), R"({"b": 1, "a": [1, 2.5, null, true, "\u00fc\"\n"]})");
    EXPECT_EQ(render("{{ {'k': [1, {}], 'e': []}|tojson(indent=2) }}"),
              "{\n  \"k\": [\n    1,\n    {}\n  ],\n  \"e\": []\n}");
    EXPECT_EQ(render("{{ '🦙<>&'|tojson }} {{ '🦙'|tojson(ensure_ascii=true) }}"), "\"🦙<>&\" \"\\ud83e\\udd99\"");
}

TEST(ChatInterpreter, TestsAndGlobals) {
    EXPECT_EQ(render("{{ none is none }}{{ 's' is string }}{{ {} is mapping }}{{ 1 is number }}{{ true is boolean }}"
                     "{{ 4 is divisibleby 2 }}{{ 3 is even }}{{ false is false }}{{ 1 is true }}{{ 'X' is eq 'X' }}"),
              "TrueTrueTrueTrueTrueTrueFalseTrueFalseTrue");
    EXPECT_EQ(render("{{ range(3)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1) }} {{ namespace(a=1).a }}"),
              "[0, 1, 2] [5, 3, 1] {'a': 1} 1");
    EXPECT_EQ(render("{{ strftime_now is defined }} {{ raise_exception is defined }}"), "True True");
}

}  // namespace
}  // namespace kiln
