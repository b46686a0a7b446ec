// Structured output through the real HTTP server on the real stories260K model: Ollama
// "format", OpenAI "response_format" and forced tool calls. The model is a toy story model
// sampled at a high temperature, so only the grammar can make its output valid JSON.
#include <gtest/gtest.h>

#include <cmath>

#include "base/testdata.h"
#include "gguf/file.h"
#include "grammar/json_schema.h"
#include "server/grammar_constraint.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

using nlohmann::json;
using test::TestServer;

const char* kJson = "application/json";

// A small bounded schema: the output always fits in the token budget below.
const json kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "color": {"enum": ["red", "green", "blue"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 9},
    "ok": {"type": "boolean"},
    "word": {"type": "string", "minLength": 1, "maxLength": 6}
  },
  "required": ["color", "count", "ok", "word"],
  "additionalProperties": false
})");

// Hand-written check of kSchema (independent of the grammar code).
void expect_valid(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "not JSON: " << text;
  ASSERT_TRUE(doc.is_object()) << text;
  EXPECT_EQ(doc.size(), 4u) << text;
  ASSERT_TRUE(doc["color"].is_string()) << text;
  EXPECT_TRUE(doc["color"] == "red" || doc["color"] == "green" || doc["color"] == "blue") << text;
  ASSERT_TRUE(doc["count"].is_number_integer()) << text;
  EXPECT_GE(doc["count"].get<int>(), 1);
  EXPECT_LE(doc["count"].get<int>(), 9);
  EXPECT_TRUE(doc["ok"].is_boolean()) << text;
  ASSERT_TRUE(doc["word"].is_string()) << text;
  const std::string w = doc["word"];
  size_t cps = 0;
  for (unsigned char c : w) cps += (c & 0xC0) != 0x80;
  EXPECT_GE(cps, 1u) << text;
  EXPECT_LE(cps, 6u) << text;
}

json hot(int seed, int n) {
  return json{{"temperature", 1.5}, {"top_k", 0}, {"top_p", 1.0}, {"seed", seed}, {"num_predict", n}};
}

json post(httplib::Client& c, const std::string& path, const json& body, int* status) {
  auto res = c.Post(path, body.dump(), kJson);
  EXPECT_TRUE(res);
  if (!res) return json();
  *status = res->status;
  return json::parse(res->body, nullptr, false);
}

TEST(HttpGrammar, OllamaFormatSchemaAlwaysValidates) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  for (int seed = 1; seed <= 4; ++seed) {
    int status = 0;
    json out = post(c, "/api/generate",
                    {{"model", "stories260K"},
                     {"prompt", "Once upon a time"},
                     {"format", kSchema},
                     {"stream", false},
                     {"options", hot(seed, 400)}},
                    &status);
    ASSERT_EQ(status, 200) << out.dump();
    EXPECT_EQ(out["done_reason"], "stop") << out.dump();
    expect_valid(out["response"]);
  }
  // Chat, streamed: the concatenated message content validates.
  auto res = c.Post("/api/chat",
                    json{{"model", "stories260K"},
                         {"messages", {{{"role", "user"}, {"content", "A story about a cat."}}}},
                         {"format", kSchema},
                         {"options", hot(9, 400)}}
                        .dump(),
                    kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::string content;
  auto lines = test::ndjson(res->body);
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) content += l["message"]["content"].get<std::string>();
  EXPECT_EQ(lines.back()["done_reason"], "stop");
  expect_valid(content);
}

TEST(HttpGrammar, OllamaFormatJsonGivesAnObjectOrAValidPrefix) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  for (int seed = 1; seed <= 3; ++seed) {
    int status = 0;
    json out = post(c, "/api/generate",
                    {{"model", "stories260K"},
                     {"prompt", "Once upon a time"},
                     {"format", "json"},
                     {"stream", false},
                     {"options", hot(seed, 120)}},
                    &status);
    ASSERT_EQ(status, 200) << out.dump();
    const std::string text = out["response"];
    // Any JSON object is unbounded, so the token budget may cut it: then it must still be a
    // prefix of valid JSON (what the grammar allows), and say so.
    grammar::Matcher prefix(compile_grammar(grammar::json_object_gbnf()).value());
    EXPECT_TRUE(prefix.accept(text)) << text;
    if (out["done_reason"] == "stop") {
      json doc = json::parse(text, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << text;
      EXPECT_TRUE(doc.is_object()) << text;
    } else {
      EXPECT_EQ(out["done_reason"], "length");
      EXPECT_EQ(text.substr(0, 1), "{") << text;
    }
  }
}

TEST(HttpGrammar, OpenAiResponseFormat) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  const json msgs = json::array({{{"role", "user"}, {"content", "Tell me a story."}}});
  int status = 0;
  json out = post(c, "/v1/chat/completions",
                  {{"model", "stories260K"},
                   {"messages", msgs},
                   {"temperature", 1.5},
                   {"seed", 3},
                   {"n", 3},
                   {"max_tokens", 400},
                   {"response_format",
                    {{"type", "json_schema"},
                     {"json_schema", {{"name", "thing"}, {"strict", true}, {"schema", kSchema}}}}}},
                  &status);
  ASSERT_EQ(status, 200) << out.dump();
  ASSERT_EQ(out["choices"].size(), 3u);
  for (const auto& ch : out["choices"]) {
    EXPECT_EQ(ch["finish_reason"], "stop");
    expect_valid(ch["message"]["content"]);
  }
  // Streamed json_object on the legacy completions endpoint.
  auto res = c.Post("/v1/completions",
                    json{{"model", "stories260K"},
                         {"prompt", "Once upon a time"},
                         {"temperature", 1.2},
                         {"seed", 5},
                         {"max_tokens", 200},
                         {"stream", true},
                         {"response_format", {{"type", "json_object"}}}}
                        .dump(),
                    kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  bool done = false;
  std::string text, reason;
  for (const auto& e : test::sse_events(res->body, &done)) {
    if (e["choices"].empty()) continue;
    text += e["choices"][0]["text"].get<std::string>();
    if (e["choices"][0]["finish_reason"].is_string()) reason = e["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(done);
  ASSERT_EQ(text.substr(0, 1), "{") << text;
  if (reason == "stop") EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << text;
  // A schema with something the grammar cannot enforce: 400 when strict, JSON anyway when not.
  json loose_schema = {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}, {"multipleOf", 3}}}}}};
  json strict_fmt = {{"type", "json_schema"},
                     {"json_schema", {{"name", "x"}, {"strict", true}, {"schema", loose_schema}}}};
  out = post(c, "/v1/chat/completions",
             {{"model", "stories260K"}, {"messages", msgs}, {"response_format", strict_fmt}}, &status);
  EXPECT_EQ(status, 400) << out.dump();
  EXPECT_NE(out["error"]["message"].get<std::string>().find("multipleOf"), std::string::npos);
  json lax_fmt = strict_fmt;
  lax_fmt["json_schema"]["strict"] = false;
  out = post(c, "/v1/chat/completions",
             {{"model", "stories260K"},
              {"messages", msgs},
              {"max_tokens", 60},
              {"temperature", 0},
              {"response_format", lax_fmt}},
             &status);
  ASSERT_EQ(status, 200) << out.dump();
  EXPECT_EQ(out["choices"][0]["message"]["content"].get<std::string>().substr(0, 1), "{");
}

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
   "parameters": {"type": "object", "properties": {
     "city": {"enum": ["Paris", "Oslo", "Lima"]},
     "unit": {"enum": ["celsius", "fahrenheit"]}},
     "required": ["city", "unit"], "additionalProperties": false}}},
  {"type": "function", "function": {"name": "get_time", "description": "Time in a zone",
   "parameters": {"type": "object", "properties": {"zone": {"type": "string", "maxLength": 5}},
     "required": ["zone"], "additionalProperties": false}}}
])");

void expect_weather_args(const json& args) {
  ASSERT_TRUE(args.is_object()) << args.dump();
  EXPECT_EQ(args.size(), 2u) << args.dump();
  EXPECT_TRUE(args["city"] == "Paris" || args["city"] == "Oslo" || args["city"] == "Lima") << args.dump();
  EXPECT_TRUE(args["unit"] == "celsius" || args["unit"] == "fahrenheit") << args.dump();
}

TEST(HttpGrammar, ForcedToolCalls) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  const json msgs = json::array({{{"role", "user"}, {"content", "Weather in Paris?"}}});
  const json named = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  int status = 0;
  for (int seed = 1; seed <= 3; ++seed) {
    json out = post(c, "/v1/chat/completions",
                    {{"model", "stories260K"},
                     {"messages", msgs},
                     {"tools", kTools},
                     {"tool_choice", named},
                     {"temperature", 1.5},
                     {"seed", seed},
                     {"max_tokens", 300}},
                    &status);
    ASSERT_EQ(status, 200) << out.dump();
    const json& ch = out["choices"][0];
    EXPECT_EQ(ch["finish_reason"], "tool_calls") << out.dump();
    ASSERT_EQ(ch["message"]["tool_calls"].size(), 1u) << out.dump();
    const json& call = ch["message"]["tool_calls"][0];
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["function"]["name"], "get_weather");
    expect_weather_args(json::parse(call["function"]["arguments"].get<std::string>()));
  }
  // Streamed, with "required": the deltas carry one call to one of the tools.
  auto res = c.Post("/v1/chat/completions",
                    json{{"model", "stories260K"},
                         {"messages", msgs},
                         {"tools", kTools},
                         {"tool_choice", "required"},
                         {"temperature", 1.5},
                         {"seed", 4},
                         {"max_tokens", 300},
                         {"stream", true}}
                        .dump(),
                    kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  bool done = false;
  json calls = json::array();
  std::string reason;
  for (const auto& e : test::sse_events(res->body, &done)) {
    if (e["choices"].empty()) continue;
    const json& d = e["choices"][0]["delta"];
    if (d.contains("tool_calls")) {
      for (const auto& tc : d["tool_calls"]) calls.push_back(tc);
    }
    if (e["choices"][0]["finish_reason"].is_string()) reason = e["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(reason, "tool_calls");
  ASSERT_EQ(calls.size(), 1u) << res->body;
  const std::string name = calls[0]["function"]["name"];
  json args = json::parse(calls[0]["function"]["arguments"].get<std::string>());
  if (name == "get_weather") {
    expect_weather_args(args);
  } else {
    EXPECT_EQ(name, "get_time");
    ASSERT_TRUE(args["zone"].is_string()) << args.dump();
    EXPECT_LE(args["zone"].get<std::string>().size(), 20u);
  }
  // A named tool that does not exist is still an error.
  json bad = post(c, "/v1/chat/completions",
                  {{"model", "stories260K"},
                   {"messages", msgs},
                   {"tools", kTools},
                   {"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}},
                  &status);
  EXPECT_EQ(status, 400) << bad.dump();
}

TEST(GrammarConstraintUnit, MasksLogitsAndEndsCleanly) {
  SOV_REQUIRE_TESTDATA(dir);
  auto file = gguf::File::open(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(file.is_ok());
  auto tok_result = tokenizer::Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok_result.is_ok());
  std::shared_ptr<const tokenizer::Tokenizer> tok = std::move(tok_result).value();
  auto vocab = vocab_index(tok);
  EXPECT_EQ(vocab, vocab_index(tok));  // cached per tokenizer
  auto g = compile_grammar("root ::= \"ab\" | \"a\"");
  ASSERT_TRUE(g.is_ok());
  GrammarConstraint gc(*g, vocab);
  std::vector<float> logits(static_cast<size_t>(tok->n_vocab()), 1.0f);
  gc.apply(logits);
  const int32_t a = tok->find_token("a");
  ASSERT_GE(a, 0);
  EXPECT_EQ(logits[a], 1.0f);
  EXPECT_TRUE(std::isinf(logits[tok->eos()]));  // not complete yet
  size_t allowed = 0;
  for (size_t id = 0; id < logits.size(); ++id) {
    if (!std::isinf(logits[id])) {
      ++allowed;
      EXPECT_EQ(tok->piece(static_cast<int32_t>(id)).substr(0, 1), "a") << id;
    }
  }
  EXPECT_GE(allowed, 1u);
  gc.accept(a);
  std::fill(logits.begin(), logits.end(), 1.0f);
  gc.apply(logits);
  EXPECT_EQ(logits[tok->eos()], 1.0f);  // "a" is complete: EOS allowed
  EXPECT_EQ(logits[tok->find_token("b")], 1.0f);
  EXPECT_TRUE(std::isinf(logits[a]));
  const int32_t b = tok->find_token("b");
  gc.accept(b);
  std::fill(logits.begin(), logits.end(), 1.0f);
  gc.apply(logits);
  for (size_t id = 0; id < logits.size(); ++id) {
    EXPECT_EQ(std::isinf(logits[id]), static_cast<int32_t>(id) != tok->eos()) << id;  // only EOS is left
  }
}

}  // namespace
}  // namespace sov::server
