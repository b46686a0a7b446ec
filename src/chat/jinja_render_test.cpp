// Interpreter behaviour beyond Python parity: error locations and classes, resource limits
// (steps, recursion, output size, nesting), key order, options, thread safety.
#include <gtest/gtest.h>

#include <thread>

#include "chat/chat_template.h"
#include "chat/jinja_template.h"

namespace sov::chat {
namespace {

using json = nlohmann::ordered_json;

Result<std::string> run(std::string_view source, const json& vars = json::object(),
                        const RenderOptions& options = {}) {
  SOV_ASSIGN_OR_RETURN(JinjaTemplate tmpl, JinjaTemplate::parse(source));
  return tmpl.render(vars, options);
}

std::string message(const Result<std::string>& r) {
  return r.is_ok() ? "(rendered)" : r.status().message();
}

TEST(JinjaErrors, SyntaxErrorsCarryLineAndColumn) {
  auto r = run("line one\n{{ a + }}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(message(r), "TemplateSyntaxError at line 2, column 8: unexpected end of print statement");

  EXPECT_EQ(
      message(run("{% if x %}\n  open")),
      "TemplateSyntaxError at line 2, column 7: Unexpected end of template. Jinja was looking for the "
      "following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
  EXPECT_EQ(message(run("ok\n\n   {% frobnicate %}")),
            "TemplateSyntaxError at line 3, column 7: Encountered unknown tag 'frobnicate'.");
  EXPECT_EQ(message(run("{{ (1, 2]] }}")),
            "TemplateSyntaxError at line 1, column 9: unexpected ']', expected ')'");
  EXPECT_EQ(message(run("héllo {{ 'open }}")),
            "TemplateSyntaxError at line 1, column 10: unexpected char ''' (unterminated string)");
  EXPECT_EQ(message(run("{# never closed")),
            "TemplateSyntaxError at line 1, column 1: Missing end of comment tag");
  EXPECT_EQ(
      message(run("{% for x in y %}{% endif %}")),
      "TemplateSyntaxError at line 1, column 20: Encountered unknown tag 'endif'. Jinja was looking for the "
      "following tags: 'endfor' or 'else'.");
  EXPECT_EQ(message(run("{% break %}")), "TemplateSyntaxError at line 1, column 4: 'break' outside loop");
  EXPECT_EQ(message(run("{{ x | nosuch }}")),
            "TemplateAssertionError at line 1, column 8: No filter named 'nosuch'.");
}

TEST(JinjaErrors, UnknownFilterInsideIfFailsOnlyWhenReached) {
  EXPECT_EQ(run("{% if false %}{{ x | nosuch }}{% endif %}ok").value(), "ok");
  EXPECT_EQ(message(run("{% if true %}{{ x | nosuch }}{% endif %}")),
            "TemplateRuntimeError at line 1, column 21: No filter named 'nosuch' found.");
}

TEST(JinjaErrors, RuntimeErrorsNameTheInnermostNode) {
  json vars = {{"messages", json::array({{{"role", "user"}}})}};
  EXPECT_EQ(message(run("{% for m in messages %}\n  {{ m.role + m.content }}\n{% endfor %}", vars)),
            "UndefinedError at line 2, column 6: 'dict object' has no attribute 'content'");
  EXPECT_EQ(message(run("{{ 'a' + none }}")),
            "TypeError at line 1, column 4: can only concatenate str (not \"NoneType\") to str");
  EXPECT_EQ(message(run("\n{{ none.strip() }}")),
            "UndefinedError at line 2, column 4: 'None' has no attribute 'strip'");
  EXPECT_EQ(message(run("{{ [].append(1) }}")),
            "SecurityError at line 1, column 4: access to attribute 'append' of 'list' object is unsafe.");
}

TEST(JinjaErrors, RaiseExceptionKeepsTheTemplatesMessage) {
  auto r = run("{% if true %}\n  {{ raise_exception('Roles must alternate!') }}\n{% endif %}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(message(r), "TemplateError at line 2, column 6: Roles must alternate!");
}

TEST(JinjaLimits, StepLimitStopsEndlessWork) {
  RenderOptions o;
  o.limits.max_steps = 100000;
  auto r = run("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
               json::object(), o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(message(r).find("ResourceLimit"), std::string::npos) << message(r);
}

TEST(JinjaLimits, InfiniteRecursionIsAnError) {
  auto r = run("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(message(r).find("RecursionError"), std::string::npos) << message(r);
  // Legitimate recursion of moderate depth still works.
  EXPECT_EQ(
      run("{% macro r(n) %}{% if n > 0 %}{{ r(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ r(100) }}")
          .value(),
      "done");
}

TEST(JinjaLimits, OutputAndStringSizeAreBounded) {
  RenderOptions o;
  o.limits.max_output_bytes = 1 << 20;
  auto r = run("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", json::object(), o);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
  r = run("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
          json::object(), o);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
  r = run("{{ ('x' * 1000000000)|length }}");
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
  r = run("{{ ([1, 2] * 1000000000)|length }}");
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
}

TEST(JinjaLimits, BuildingManyValuesCountsAgainstTheStepBudget) {
  // Each iteration keeps a fresh 100 KB string alive; the byte charge stops it long before
  // memory runs out (budget / 16 bytes at most).
  RenderOptions o;
  o.limits.max_steps = 1'000'000;
  auto r = run("{% set ns = namespace(l=[]) %}{% set big = 'x' * 100000 %}"
               "{% for i in range(100000) %}{% set ns.l = ns.l + [big | upper] %}{% endfor %}",
               json::object(), o);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
  r = run("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
          json::object(), o);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted) << message(r);
}

TEST(JinjaLimits, DeepNestingIsRefusedNotCrashed) {
  std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(message(run(parens)).find("TemplateSyntaxError"), std::string::npos);
  std::string chain = "{{ x";
  for (int i = 0; i < 100000; ++i) chain += ".a";
  EXPECT_NE(message(run(chain + " }}")).find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_NE(message(run(ifs)).find("TemplateSyntaxError"), std::string::npos);
  // A list nested through a namespace in a loop stops at the value depth limit.
  auto r =
      run("{% set ns = namespace(v=[]) %}{% for i in range(100000) %}{% set ns.v = [ns.v] %}{% endfor %}");
  EXPECT_NE(message(r).find("RecursionError"), std::string::npos) << message(r);
  // A namespace that refers to itself prints (bounded) and is released.
  r = run("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me.me is defined }}");
  EXPECT_EQ(r.value(), "True");
}

TEST(JinjaRender, KeepsJsonKeyOrder) {
  json vars =
      json::parse(R"({"tool": {"name": "f", "parameters": {"z": 1, "a": 2, "m": {"y": true, "b": null}}}})");
  EXPECT_EQ(run("{{ tool | tojson }}", vars).value(),
            R"({"name": "f", "parameters": {"z": 1, "a": 2, "m": {"y": true, "b": null}}})");
  EXPECT_EQ(run("{% for k, v in tool.parameters.items() %}{{ k }}{% endfor %}", vars).value(), "zam");
}

TEST(JinjaRender, StrftimeUsesTheGivenTime) {
  RenderOptions o;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  o.now = tm;
  EXPECT_EQ(run("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}", json::object(), o).value(),
            "26 Jul 2024|2024-07-26");
  EXPECT_TRUE(run("{{ strftime_now('%Y') }}").is_ok());  // real clock by default
}

TEST(JinjaRender, VariablesMustBeAnObject) {
  auto tmpl = JinjaTemplate::parse("x");
  ASSERT_TRUE(tmpl.is_ok());
  EXPECT_EQ(tmpl->render(json::array()).status().code(), ErrorCode::kInvalidArgument);
}

TEST(JinjaRender, OneTemplateRendersFromManyThreads) {
  auto tmpl = JinjaTemplate::parse(
      "{% set ns = namespace(n=0) %}{% for i in range(k) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(tmpl.is_ok());
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 50; ++rep) results[t] = tmpl->render(json{{"k", 100 + t}}).value();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(results[t], std::to_string((100 + t) * (99 + t) / 2));
}

TEST(ChatTemplate, RendersMessagesWithTheStandardVariables) {
  const char* source =
      "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}"
      "{% if tools is not none %}[{{ tools | length }} tools]{% endif %}{% if documents is none %}(no "
      "docs){% endif %}"
      "{% if add_generation_prompt %}<|assistant|>{% endif %}{{ extra }}";
  json messages = json::parse(R"([{"role": "user", "content": "Hi"}])");
  auto out = render_chat(source, messages, nullptr, true, "<s>", "</s>", json{{"extra", "!"}});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(out.value(), "<s><|user|>Hi</s>(no docs)<|assistant|>!");
  out = render_chat(source, messages, json::array({json::object()}), false, "", "", json::object());
  EXPECT_EQ(out.value(), "<|user|>Hi[1 tools](no docs)");
  EXPECT_EQ(render_chat(source, json::object(), nullptr, false, "", "").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(render_chat("{% if %}", messages, nullptr, false, "", "").status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sov::chat
