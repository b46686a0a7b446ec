#include "chat/tool_calls.h"

#include <gtest/gtest.h>

namespace sov::chat {
namespace {

struct Result {
  std::string content;
  std::vector<ToolCall> calls;
};

// Feeds `pieces` one by one (as a model's tokens arrive), then finishes.
Result run_pieces(const std::vector<std::string>& pieces,
                  std::vector<std::string> tools = {"get_weather", "add"}) {
  ToolCallParser p(std::move(tools));
  Result r;
  auto take = [&r](ToolCallParser::Output out) {
    r.content += out.content;
    for (auto& c : out.calls) r.calls.push_back(std::move(c));
  };
  for (const auto& piece : pieces) take(p.feed(piece));
  take(p.finish());
  return r;
}

// Feeds `text` in pieces of `step` bytes (1 = token by token at worst), then finishes.
Result run(const std::string& text, size_t step, std::vector<std::string> tools = {"get_weather", "add"}) {
  std::vector<std::string> pieces;
  for (size_t i = 0; i < text.size(); i += step) pieces.push_back(text.substr(i, step));
  return run_pieces(pieces, std::move(tools));
}

class EveryStep : public ::testing::TestWithParam<size_t> {};

TEST_P(EveryStep, HermesTagAfterText) {
  auto r =
      run("Let me check.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
          "\"Paris\"}}\n</tool_call>",
          GetParam());
  EXPECT_EQ(r.content, "Let me check.");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments["city"], "Paris");
}

TEST_P(EveryStep, TwoHermesCalls) {
  auto r =
      run("<tool_call>{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}}</tool_call>\n"
          "<tool_call>{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":3}\"}</tool_call>",
          GetParam());
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].arguments["a"], 3);  // string arguments are decoded
  EXPECT_EQ(r.content, "\n");
}

TEST_P(EveryStep, MistralList) {
  auto r =
      run("[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 1}}, {\"name\": \"get_weather\", "
          "\"arguments\": {}}]",
          GetParam());
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "add");
  EXPECT_EQ(r.calls[1].name, "get_weather");
  EXPECT_EQ(r.content, "");
}

TEST_P(EveryStep, MistralNameArgs) {
  auto r = run("[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Oslo\"}", GetParam());
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments["city"], "Oslo");
}

TEST_P(EveryStep, Llama3PythonTagAndPlainJson) {
  auto a = run("<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 2}}", GetParam());
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].arguments["a"], 2);
  auto b = run("  {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}", GetParam());
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_EQ(b.calls[0].arguments["city"], "Rome");
  EXPECT_EQ(b.content, "");
}

TEST_P(EveryStep, OrdinaryTextAndJsonStayContent) {
  auto a = run("The answer is 42. No tools needed <tool", GetParam());
  EXPECT_TRUE(a.calls.empty());
  EXPECT_EQ(a.content, "The answer is 42. No tools needed <tool");
  // JSON that is not a call of a known tool is content.
  auto b = run("{\"name\": \"Bob\", \"age\": 3}", GetParam());
  EXPECT_TRUE(b.calls.empty());
  EXPECT_EQ(b.content, "{\"name\": \"Bob\", \"age\": 3}");
  auto c = run("{hello}", GetParam());
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.content, "{hello}");
  // A marker whose payload does not parse is passed through.
  auto d = run("<tool_call>not json</tool_call> ok", GetParam());
  EXPECT_TRUE(d.calls.empty());
  EXPECT_EQ(d.content, "<tool_call>not json</tool_call> ok");
}

TEST_P(EveryStep, UnterminatedTagAtEndStillParses) {
  auto r = run("<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1}}", GetParam());
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "");
}

INSTANTIATE_TEST_SUITE_P(Steps, EveryStep, ::testing::Values(1, 2, 3, 7, 1000));

TEST_P(EveryStep, PlainJsonListOfCalls) {
  auto r =
      run("[{\"name\": \"add\", \"arguments\": {\"a\": 1}}, {\"name\": \"add\", \"parameters\": {\"a\": 2}}]",
          GetParam());
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].arguments["a"], 2);
  EXPECT_EQ(r.content, "");
  // OpenAI-shaped items ({"function": {...}}) are understood too.
  auto f = run("{\"type\": \"function\", \"function\": {\"name\": \"add\", \"arguments\": {\"a\": 5}}}",
               GetParam());
  ASSERT_EQ(f.calls.size(), 1u);
  EXPECT_EQ(f.calls[0].arguments["a"], 5);
}

TEST_P(EveryStep, MistralNameArgsTwice) {
  auto r =
      run("[TOOL_CALLS]add[ARGS]{\"a\": 1}[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Köln\"}", GetParam());
  ASSERT_EQ(r.calls.size(), 2u) << r.content;
  EXPECT_EQ(r.calls[0].name, "add");
  EXPECT_EQ(r.calls[1].name, "get_weather");
  EXPECT_EQ(r.calls[1].arguments["city"], "Köln");  // split inside a UTF-8 character at step 1
  EXPECT_EQ(r.content, "");
}

TEST_P(EveryStep, HermesThenText) {
  auto r = run(
      "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
      "{\"city\": \"東京\"}}\n</tool_call>\nChecking now.",
      GetParam());
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments["city"], "東京");
  EXPECT_EQ(r.content, "<think>\nThe user wants weather.\n</think>\n\n\nChecking now.");
}

// Real models stream multi-byte tokens, and a marker is usually one special token. These
// are the token pieces each format arrives in (as the models' tokenizers split them).
TEST(ToolCallParserTokens, QwenHermes) {
  auto r = run_pieces({"<tool_call>", "\n", "{\"", "name", "\":", " \"", "get", "_weather", "\",", " \"",
                       "arguments", "\":", " {\"", "city", "\":", " \"", "Paris", "\"}}\n", "</tool_call>"});
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, nlohmann::ordered_json({{"city", "Paris"}}));
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallParserTokens, Llama3PythonTagAndJson) {
  auto a = run_pieces({"<|python_tag|>", "{\"", "name", "\":", " \"", "add", "\",", " \"", "parameters",
                       "\":", " {\"", "a", "\":", " ", "1", "}}"});
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].arguments["a"], 1);
  auto b = run_pieces({"{\"", "name", "\":", " \"", "get", "_weather", "\",", " \"", "parameters",
                       "\":", " {\"", "city", "\":", " \"", "Rome", "\"}}"});
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_EQ(b.calls[0].arguments["city"], "Rome");
  EXPECT_EQ(b.content, "");
}

TEST(ToolCallParserTokens, MistralBothForms) {
  auto a = run_pieces({"[TOOL_CALLS]", " [", "{\"", "name", "\":", " \"", "add", "\",", " \"", "arguments",
                       "\":", " {\"", "a", "\":", " ", "3", "}}", "]"});
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].arguments["a"], 3);
  auto b =
      run_pieces({"[TOOL_CALLS]", "get", "_weather", "[ARGS]", "{\"", "city", "\":", " \"", "Oslo", "\"}"});
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_EQ(b.calls[0].name, "get_weather");
  EXPECT_EQ(b.calls[0].arguments["city"], "Oslo");
  EXPECT_EQ(a.content + b.content, "");
}

TEST(ToolCallParserTokens, PlainTextStreamsAtOnce) {
  // Text with no marker in sight is released piece by piece, not held to the end.
  ToolCallParser p({"add"});
  EXPECT_EQ(p.feed("Paris").content, "Paris");
  EXPECT_EQ(p.feed(" is").content, " is");
  EXPECT_EQ(p.feed(" sunny.").content, " sunny.");
  EXPECT_EQ(p.finish().content, "");
  EXPECT_EQ(p.n_calls(), 0u);
}

TEST(ToolCallParser, StreamsTextBeforeAMarkerCompletes) {
  ToolCallParser p({"f"});
  auto a = p.feed("Hello wor");
  EXPECT_EQ(a.content, "Hello wor");
  auto b = p.feed("ld <tool_");
  EXPECT_EQ(b.content, "ld ");  // "<tool_" is held: it may start a marker
  auto c = p.feed("call>{\"name\":\"f\",\"arguments\":{}}</tool_call>");
  EXPECT_EQ(c.content, "");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(p.n_calls(), 1u);
}

TEST(JsonValueEnd, BracketsAndStrings) {
  EXPECT_EQ(json_value_end("{\"a\": \"}\"} tail"), 10u);
  EXPECT_EQ(json_value_end("  [1, [2]]x"), 10u);
  EXPECT_EQ(json_value_end("{\"a\": \"\\\"}\"}"), 12u);
  EXPECT_EQ(json_value_end("{\"a\": 1"), std::string_view::npos);
  EXPECT_EQ(json_value_end("42"), std::string_view::npos);
}

}  // namespace
}  // namespace sov::chat
