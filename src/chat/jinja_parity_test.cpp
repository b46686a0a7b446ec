// Parity tests: each expected string below is what Jinja2 3.1 itself renders for the same
// template and variables, in transformers' environment (ImmutableSandboxedEnvironment with
// trim_blocks, lstrip_blocks, loopcontrols; transformers' tojson, raise_exception and
// strftime_now fixed at 2024-07-26). They were produced by running Jinja2 on these exact
// templates; keep them byte-exact.
#include <gtest/gtest.h>

#include "chat/jinja_template.h"

namespace sov::chat {
namespace {

constexpr const char* kContext =
    R"j({"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": " hi \n"}, {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}], "x": 5, "s": "Hello World", "l": [3, 1, 2], "d": {"b": 1, "a": 2}, "n": null, "f": 2.5, "u": "héllo 😀"})j";

RenderOptions fixed_date() {
  RenderOptions o;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_wday = 5;
  tm.tm_yday = 207;
  o.now = tm;
  return o;
}

std::string render(std::string_view source) {
  auto tmpl = JinjaTemplate::parse(source);
  if (!tmpl.is_ok()) return "PARSE ERROR: " + tmpl.status().message();
  auto out = tmpl->render(nlohmann::ordered_json::parse(kContext), fixed_date());
  return out.is_ok() ? out.value() : "ERROR: " + out.status().message();
}

// The Python exception class named at the front of the error message ("" when it rendered).
std::string error_class(std::string_view source) {
  auto tmpl = JinjaTemplate::parse(source);
  Status status =
      tmpl.is_ok() ? tmpl->render(nlohmann::ordered_json::parse(kContext)).status() : tmpl.status();
  if (status.is_ok()) return "";
  return status.message().substr(0, status.message().find(' '));
}

TEST(JinjaRenderPython, Whitespace) {
  EXPECT_EQ(render(R"j(a
  {% if true %}
  b
  {% endif %}
c)j"),
            R"j(a
  b
c)j");
  EXPECT_EQ(render(R"j(a
  {%- if true %}
  b
  {%+ endif %}
c)j"),
            R"j(a  b
  c)j");
  EXPECT_EQ(render(R"j(  {{ x }}
  {% if x %}x{% endif %}  
)j"),
            R"j(  5
x  )j");
  EXPECT_EQ(render(R"j({%- for i in l -%}
  {{ i }}
{%- endfor -%}
  end)j"),
            R"j(312end)j");
  EXPECT_EQ(render(R"j(a {# comment #}
 b
  {# c #}
  d)j"),
            R"j(a  b
  d)j");
  EXPECT_EQ(render(R"j(a {#- comment -#}   b)j"), R"j(ab)j");
  EXPECT_EQ(render(R"j({% raw %}{{ x }}{% endraw %}
  {% raw -%}  a {{ }}  {%- endraw %}z)j"),
            R"j({{ x }}a {{ }}z)j");
  EXPECT_EQ(render(R"j(line1
line2
{% if true %}
in
{% endif %}
)j"),
            R"j(line1
line2
in
)j");
  EXPECT_EQ(render(R"j({{ x }}

)j"),
            R"j(5
)j");
  EXPECT_EQ(render(R"j(a
{%+ if true %}b{% endif +%}
c)j"),
            R"j(a
b
c)j");
  EXPECT_EQ(render(R"j({% set y %}
  a
  {% if true %}
  b
  {% endif %}
{% endset %}[{{ y }}])j"),
            R"j([  a
  b
])j");
}

TEST(JinjaRenderPython, Expressions) {
  EXPECT_EQ(
      render(
          R"j({{ 1 + 2 * 3 }} {{ 2 ** 3 ** 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 1.5 + 1 }})j"),
      R"j(7 64 3 -4 -2 3.5 2.5)j");
  EXPECT_EQ(
      render(R"j({{ 'a' ~ 1 ~ none ~ true }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ (1, 2) }} {{ (1,) }})j"),
      R"j(a1NoneTrue ab [1, 2] (1, 2) (1,))j");
  EXPECT_EQ(render(R"j({{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 'a' in 'abc' }} {{ 1 not in l }} {{ 'b' in d }})j"),
            R"j(True False True False True)j");
  EXPECT_EQ(
      render(
          R"j({{ l[0] }} {{ l[-1] }} {{ l[1:] }} {{ l[::-1] }} {{ s[1:4] }} {{ u[::-1] }} {{ u[1] }}|{{ l[5] }}|{{ d.a }} {{ d['b'] }})j"),
      R"j(3 2 [1, 2] [2, 1, 3] ell 😀 olléh é||2 1)j");
  EXPECT_EQ(
      render(
          R"j({{ x if x > 3 else 'small' }} {{ 'y' if false }}|{{ not x }} {{ x and 0 }} {{ 0 or 'z' }})j"),
      R"j(5 |False 0 z)j");
  EXPECT_EQ(
      render(R"j({{ d }} {{ l }} {{ n }} {{ true }} {{ f }} {{ 1e20 }} {{ 0.1 }} {{ 1.0 }} {{ 0.00001 }})j"),
      R"j({'b': 1, 'a': 2} [3, 1, 2] None True 2.5 1e+20 0.1 1.0 1e-05)j");
  EXPECT_EQ(render(R"j({{ {'a': [1, {'b': none}], 'c': 'it\'s'} }} {{ ['a"b', "x'y", 'p\nq'] }})j"),
            R"j({'a': [1, {'b': None}], 'c': "it's"} ['a"b', "x'y", 'p\nq'])j");
  EXPECT_EQ(render(R"j({{ 'abc' 'def' }} {{ "q\"uote" }} {{ 'tab\there' }} {{ '\u00e9\x41' }} {{ 'a\
b' }})j"),
            R"j(abcdef q"uote tab	here éA ab)j");
  EXPECT_EQ(render(R"j({{ 1 == 1.0 }} {{ true == 1 }} {{ (1, 2) == [1, 2] }} {{ undefinedvar == none }})j"),
            R"j(True True False False)j");
  EXPECT_EQ(render(R"j({{ 0x10 }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1e3 }} {{ 2.5e-3 }})j"),
            R"j(16 15 5 1000 1000.0 0.0025)j");
  EXPECT_EQ(render(R"j({{ '<x>' + ' ab  '|trim }} {{ 1 + l|length }} {{ -x|abs }})j"), R"j(<x>ab 4 5)j");
  EXPECT_EQ(
      render(R"j({{ '%5.2f|%-4d|%x|%s' % (3.14159, 7, 255, 'a') }} {{ '%(a)s-%(b)s' % {'a': 1, 'b': 2} }})j"),
      R"j( 3.14|7   |ff|a 1-2)j");
}

TEST(JinjaRenderPython, Loops) {
  EXPECT_EQ(
      render(
          R"j({% for i in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{% if not loop.last %},{% endif %}{% endfor %})j"),
      R"j(103TrueFalse3,212FalseFalse3,321FalseTrue3)j");
  EXPECT_EQ(render(R"j({% for i in l %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %})j"),
            R"j(-1|3-2|1-|)j");
  EXPECT_EQ(
      render(
          R"j({% for i in l if i > 1 %}{{ i }}{{ loop.length }}{% else %}empty{% endfor %}{% for i in [] %}x{% else %}E{% endfor %})j"),
      R"j(3222E)j");
  EXPECT_EQ(
      render(
          R"j({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %})j"),
      R"j(b=1;a=2;ba)j");
  EXPECT_EQ(
      render(
          R"j({% for i in l %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %})j"),
      R"j(3)j");
  EXPECT_EQ(
      render(R"j({% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}{{ range(5, 0, -2)|list }})j"),
      R"j(aba[5, 3, 1])j");
  EXPECT_EQ(render(R"j({% set c = 0 %}{% for i in l %}{% set c = c + i %}{{ c }}{% endfor %}{{ c }})j"),
            R"j(3120)j");
  EXPECT_EQ(
      render(
          R"j({% set ns = namespace(c=0) %}{% for i in l %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }})j"),
      R"j(6)j");
  EXPECT_EQ(
      render(
          R"j({% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}{% set p, q = 'ab' %}{{ q }}{{ p }})j"),
      R"j(37ba)j");
  EXPECT_EQ(render(R"j({% for c in 'héy' %}[{{ c }}]{% endfor %})j"), R"j([h][é][y])j");
  EXPECT_EQ(
      render(
          R"j({% for item in [{'n': 'a', 'c': [{'n': 'b', 'c': []}]}] recursive %}{{ item.n }}{% if item.c %}({{ loop(item.c) }}){% endif %}{{ loop.depth }}{% endfor %})j"),
      R"j(a(b2)1)j");
  EXPECT_EQ(render(R"j({% set messages = messages[1:] %}{{ messages|length }})j"), R"j(2)j");
}

TEST(JinjaRenderPython, Macros) {
  EXPECT_EQ(
      render(
          R"j({% macro m(a, b=2, c='x') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(1, c='z') }} {{ m(a=5, b=6) }})j"),
      R"j(12x 13x 12z 56x)j");
  EXPECT_EQ(render(R"j({% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }})j"),
            R"j((1, 2){'k': 3})j");
  EXPECT_EQ(
      render(R"j({% macro m(x) %}<{{ caller() }}|{{ x }}>{% endmacro %}{% call m(1) %}body{% endcall %})j"),
      R"j(<body|1>)j");
  EXPECT_EQ(
      render(R"j({% macro m() %}{{ caller(5) }}{% endmacro %}{% call(v) m() %}[{{ v }}]{% endcall %})j"),
      R"j([5])j");
  EXPECT_EQ(
      render(R"j({% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(4) }})j"),
      R"j(4321)j");
  EXPECT_EQ(render(R"j({% macro m(a) %}{{ a }}{% endmacro %}[{{ m() }}])j"), R"j([])j");
  EXPECT_EQ(
      render(
          R"j({% set outer = 'o1' %}{% macro m() %}{{ outer }}{{ x }}{% endmacro %}{% set outer = 'o2' %}{{ m() }})j"),
      R"j(o25)j");
}

TEST(JinjaRenderPython, Blocks) {
  EXPECT_EQ(
      render(
          R"j({% set b %}  inner {{ x }}  {% endset %}[{{ b }}]{% set t | upper | trim %} abc {% endset %}[{{ t }}])j"),
      R"j([  inner 5  ][ABC])j");
  EXPECT_EQ(
      render(
          R"j({% filter upper %}hello {{ s }}{% endfilter %}|{% filter replace('l', 'L') %}hello{% endfilter %})j"),
      R"j(HELLO HELLO WORLD|heLLo)j");
  EXPECT_EQ(render(R"j({% with a = 1, b = x %}{{ a + b }}{% endwith %}[{{ a }}])j"), R"j(6[])j");
}

TEST(JinjaRenderPython, Filters) {
  EXPECT_EQ(
      render(
          R"j({{ s|upper }} {{ s|lower }} {{ 'hello world-foo(bar)'|title }} {{ 'hELLO'|capitalize }} {{ '  x  '|trim }} {{ 'xxaxx'|trim('x') }})j"),
      R"j(HELLO WORLD hello world Hello World-Foo(Bar) Hello x a)j");
  EXPECT_EQ(
      render(
          R"j({{ l|join(', ') }} {{ l|sort }} {{ l|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }})j"),
      R"j(3, 1, 2 [1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] ['A', 'b', 'c'])j");
  EXPECT_EQ(
      render(
          R"j({{ l|first }} {{ l|last }} {{ l|min }} {{ l|max }} {{ l|sum }} {{ l|reverse|list }} {{ s|reverse }})j"),
      R"j(3 2 1 3 6 [2, 1, 3] dlroW olleH)j");
  EXPECT_EQ(
      render(
          R"j({{ messages|map(attribute='role')|list }} {{ messages|map(attribute='role')|join('|') }} {{ l|map('string')|list }})j"),
      R"j(['system', 'user', 'assistant'] system|user|assistant ['3', '1', '2'])j");
  EXPECT_EQ(
      render(
          R"j({{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }})j"),
      R"j(1 ['system', 'assistant'])j");
  EXPECT_EQ(
      render(
          R"j({{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ messages|selectattr('tool_calls', 'defined')|list|length }})j"),
      R"j([3, 1] [2] [1, 'a'] 1)j");
  EXPECT_EQ(
      render(
          R"j({{ undefinedvar|default('dflt') }} {{ ''|default('e') }} {{ ''|default('e', true) }} {{ none|default('n') }} {{ x|d(3) }})j"),
      R"j(dflt  e None 5)j");
  EXPECT_EQ(
      render(
          R"j({{ d|items|list }} {{ d|dictsort }} {{ d|dictsort(by='value') }} {{ d|dictsort(reverse=true) }})j"),
      R"j([('b', 1), ('a', 2)] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)] [('b', 1), ('a', 2)])j");
  EXPECT_EQ(
      render(
          R"j({{ [1, 2, 1, 'a', 'A']|unique|list }} {{ l|batch(2)|list }} {{ l|batch(2, 'x')|list }} {{ [1,2,3,4,5]|slice(2)|list }})j"),
      R"j([1, 2, 'a'] [[3, 1], [2]] [[3, 1], [2, 'x']] [[1, 2, 3], [4, 5]])j");
  EXPECT_EQ(
      render(
          R"j({{ '3'|int }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '0x1f'|int(base=16) }} {{ '2.5'|float }} {{ 'q'|float }} {{ 3|float }})j"),
      R"j(3 3 0 7 3 31 2.5 0.0 3.0)j");
  EXPECT_EQ(
      render(
          R"j({{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3.14159|round(2, 'floor') }} {{ 3.1|round(0, 'ceil') }} {{ 3|round }})j"),
      R"j(2.0 4.0 2.67 3.14 4.0 3)j");
  EXPECT_EQ(
      render(
          R"j({{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, blank=true) }})j"),
      R"j(a
    b

    c|  a
  b|a
  
  b)j");
  EXPECT_EQ(
      render(
          R"j({{ 'hello world foo'|wordcount }} {{ 'the quick brown fox jumps over'|truncate(15) }} {{ 'abcdefghijklmnopqrstuvwxyz'|truncate(10, true) }})j"),
      R"j(3 the quick... abcdefg...)j");
  EXPECT_EQ(
      render(
          R"j({{ '<a href="x">&</a>'|e }} {{ '<b>'|safe }} {{ '%s is %d'|format('x', 3) }} {{ 'x'|center(7) }}|{{ 1234567|filesizeformat }})j"),
      R"j(&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; <b> x is 3    x   |1.2 MB)j");
  EXPECT_EQ(
      render(
          R"j({{ d|tojson }} {{ messages|tojson }} {{ u|tojson }} {{ 'a\u001bb\tc"\\'|tojson }} {{ [1, 2.0, none, true]|tojson }})j"),
      R"j({"b": 1, "a": 2} [{"role": "system", "content": "sys"}, {"role": "user", "content": " hi \n"}, {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}] "héllo 😀" "a\u001bb\tc\"\\" [1, 2.0, null, true])j");
  EXPECT_EQ(
      render(
          R"j({{ d|tojson(indent=2) }} {{ {}|tojson(indent=2) }} {{ d|tojson(sort_keys=true) }} {{ d|tojson(separators=(',', ':')) }} {{ u|tojson(ensure_ascii=true) }})j"),
      R"j({
  "b": 1,
  "a": 2
} {} {"a": 2, "b": 1} {"b":1,"a":2} "h\u00e9llo \ud83d\ude00")j");
  EXPECT_EQ(
      render(
          R"j({{ s|replace('o', '0') }} {{ s|replace('o', '0', 1) }} {{ 'aaa'|replace('', '-') }} {{ l|string }})j"),
      R"j(Hell0 W0rld Hell0 World -a-a-a- [3, 1, 2])j");
  EXPECT_EQ(
      render(
          R"j({{ [{'a': 3}, {'a': 1}]|sort(attribute='a') }} {{ [{'n': 'b', 'a': 1}, {'n': 'a', 'a': 1}]|sort(attribute='a,n') }})j"),
      R"j([{'a': 1}, {'a': 3}] [{'n': 'a', 'a': 1}, {'n': 'b', 'a': 1}])j");
  EXPECT_EQ(render(R"j({{ [{'x': 'A'}, {'x': 'b'}, {'x': 'a'}]|groupby('x') }})j"),
            R"j([('A', [{'x': 'A'}, {'x': 'a'}]), ('b', [{'x': 'b'}])])j");
  EXPECT_EQ(render(R"j({{ 'Use '|safe + '"q" & <t>' }} {{ ('a'|safe + 'b') is string }})j"),
            R"j(Use &#34;q&#34; &amp; &lt;t&gt; True)j");
}

TEST(JinjaRenderPython, Tests) {
  EXPECT_EQ(
      render(
          R"j({{ x is defined }} {{ zz is defined }} {{ zz is undefined }} {{ n is none }} {{ x is number }} {{ f is float }} {{ x is integer }} {{ true is boolean }} {{ s is string }})j"),
      R"j(True False True True True True True True True)j");
  EXPECT_EQ(
      render(
          R"j({{ d is mapping }} {{ l is iterable }} {{ s is iterable }} {{ x is iterable }} {{ l is sequence }} {{ range is callable }} {{ x is odd }} {{ x is even }} {{ x is divisibleby 5 }})j"),
      R"j(True True True False True True True False True)j");
  EXPECT_EQ(
      render(
          R"j({{ x is eq 5 }} {{ x is ne 5 }} {{ x is gt 3 }} {{ x is lt 3 }} {{ x is ge 5 }} {{ 'a' is in 'abc' }} {{ s is lower }} {{ 'ABC' is upper }} {{ true is true }} {{ 0 is false }} {{ x is not none }})j"),
      R"j(True False True False True True False True True False True)j");
}

TEST(JinjaRenderPython, Methods) {
  EXPECT_EQ(
      render(
          R"j({{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }})j"),
      R"j(a b|a|a|a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a b', 'c'])j");
  EXPECT_EQ(
      render(
          R"j({{ s.startswith('He') }} {{ s.endswith('ld') }} {{ s.startswith(('x', 'H')) }} {{ s.find('o') }} {{ s.rfind('o') }} {{ s.count('o') }} {{ 'hello world'.title() }} {{ "they're".title() }})j"),
      R"j(True True True 4 7 2 Hello World They'Re)j");
  EXPECT_EQ(
      render(
          R"j({{ s.replace('l', 'L') }} {{ '-'.join(['a', 'b']) }} {{ 'a{}b{}'.format(1, 'x') }} {{ '{0}{name}'.format(1, name='n') }} {{ '{:>5}|{:<5}|{:^5}|{:05d}|{:.2f}|{:,}'.format('a', 'b', 'c', 42, 3.14159, 1234567) }})j"),
      R"j(HeLLo WorLd a-b a1bx 1n     a|b    |  c  |00042|3.14|1,234,567)j");
  EXPECT_EQ(
      render(
          R"j({{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 9) }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ l.index(2) }} {{ l.count(1) }})j"),
      R"j(2 None 9 ['b', 'a'] [1, 2] [('b', 1), ('a', 2)] 2 1)j");
  EXPECT_EQ(
      render(
          R"j({{ u.upper() }} {{ 'ÀÉÎ'.lower() }} {{ 'straße'.upper() }} {{ '\n\nthink\n'.lstrip('\n') }})j"),
      R"j(HÉLLO 😀 àéî STRASSE think
)j");
}

TEST(JinjaRenderPython, Undefined) {
  EXPECT_EQ(
      render(
          R"j([{{ zz }}][{{ zz|trim }}][{{ zz|upper }}][{% for a in zz %}x{% endfor %}][{{ 'a' in zz }}][{{ zz ~ 'q' }}][{{ zz|length }}])j"),
      R"j([][][][][False][q][0])j");
  EXPECT_EQ(
      render(
          R"j({{ n.x }}|{{ d.zz }}|{{ d['zz'] }}|{{ l[10] }}|{{ s.nope }}|{{ messages[2].content is none }})j"),
      R"j(|||||True)j");
}

TEST(JinjaRenderPython, Scoping) {
  EXPECT_EQ(render(R"j({% for i in l %}[{{ x }}]{% endfor %}{% set x = 1 %}{{ x }})j"), R"j([][][]1)j");
  EXPECT_EQ(render(R"j({% macro m() %}{{ x }}{% endmacro %}[{{ m() }}]{% set x = 2 %}[{{ m() }}])j"),
            R"j([][2])j");
  EXPECT_EQ(
      render(R"j({% for i in l %}[{{ x }}]{% endfor %}{% if true %}{% set x = 1 %}{% endif %}{{ x }})j"),
      R"j([5][5][5]1)j");
  EXPECT_EQ(render(R"j({{ x }}{% for i in l %}[{{ x }}]{% endfor %}{% set x = 1 %}{{ x }})j"),
            R"j(5[5][5][5]1)j");
  EXPECT_EQ(render(R"j({% for i in l %}{% for j in l %}{{ x }}{% endfor %}{% set x = i %}|{% endfor %})j"),
            R"j(|||)j");
  EXPECT_EQ(render(R"j({% set b %}{% set x = 99 %}{{ x }}{% endset %}{{ b }} {{ x }})j"), R"j(99 5)j");
  EXPECT_EQ(render(R"j({% filter upper %}{% set x = 'in' %}{{ x }}{% endfilter %} {{ x }})j"), R"j(IN 5)j");
  EXPECT_EQ(render(R"j({% if true %}{% set x = 7 %}{% endif %}{{ x }})j"), R"j(7)j");
  EXPECT_EQ(
      render(
          R"j({% for i in l %}{% continue %}{% else %}E{% endfor %}|{% for i in l %}{% break %}{% else %}E{% endfor %}|{% for i in l %}{% if i == 3 %}{% continue %}{% endif %}{% else %}E{% endfor %})j"),
      R"j(E|E|)j");
}

TEST(JinjaRenderPython, Globals) {
  EXPECT_EQ(
      render(
          R"j({{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ dict(a=1, b=2) }} {{ namespace(a=1).a }} {{ strftime_now('%Y-%m-%d %B %d, %A %b') }})j"),
      R"j([0, 1, 2] [1, 4, 7] {'a': 1, 'b': 2} 1 2024-07-26 July 26, Friday Jul)j");
  EXPECT_EQ(
      render(
          R"j({% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}{% set j = joiner('+') %}{{ j() }}x{{ j() }}y)j"),
      R"j(ababx+y)j");
}

TEST(JinjaRenderPython, ErrorClasses) {
  EXPECT_EQ(error_class(R"j({{ zz.x }})j"), "UndefinedError");
  EXPECT_EQ(error_class(R"j({{ zz + 1 }})j"), "UndefinedError");
  EXPECT_EQ(error_class(R"j({{ n + 'a' }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ 'a' + l }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ n.strip() }})j"), "UndefinedError");
  EXPECT_EQ(error_class(R"j({% for a in n %}{% endfor %})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ 'a' in n }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ x|length }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ 1 / 0 }})j"), "ZeroDivisionError");
  EXPECT_EQ(error_class(R"j({{ l.append(1) }})j"), "SecurityError");
  EXPECT_EQ(error_class(R"j({{ 1 < 'a' }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ x() }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({% set a, b = [1] %})j"), "ValueError");
  EXPECT_EQ(error_class(R"j({% set x.y = 1 %})j"), "TemplateRuntimeError");
  EXPECT_EQ(error_class(R"j({{ range(200000)|list }})j"), "OverflowError");
  EXPECT_EQ(error_class(R"j({{ l|nosuchfilter }})j"), "TemplateAssertionError");
  EXPECT_EQ(error_class(R"j({{ x is nosuchtest }})j"), "TemplateAssertionError");
  EXPECT_EQ(error_class(R"j({% macro m() %}{% endmacro %}{{ m(1) }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ [1, 'a']|sort }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ l|select('odd')|length }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ n[1:] }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ d[1:] }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ zz < 1 }})j"), "UndefinedError");
  EXPECT_EQ(error_class(R"j({{ zz|int }})j"), "UndefinedError");
  EXPECT_EQ(error_class(R"j({{ zz|round }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ 1e3 ** 1e3 }})j"), "OverflowError");
  EXPECT_EQ(error_class(R"j({{ x|reverse }})j"), "FilterArgumentError");
  EXPECT_EQ(error_class(R"j({{ l|map(attribute='a')|tojson }})j"), "TypeError");
  EXPECT_EQ(error_class(R"j({{ x|truncate(1) }})j"), "AssertionError");
  EXPECT_EQ(
      error_class(
          R"j({% macro outer() %}{% macro inner() %}{{ caller() }}{% endmacro %}{{ inner() }}{% endmacro %}{% call outer() %}C{% endcall %})j"),
      "UndefinedError");
}

}  // namespace
}  // namespace sov::chat
