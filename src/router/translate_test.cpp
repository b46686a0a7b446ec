#include "router/translate.h"

#include <gtest/gtest.h>

namespace sov::router {
namespace {

Redactor redactor() {
  return std::move(Redactor::create(RedactionConfig{})).value();
}

TEST(Translate, OllamaChatBecomesOpenAI) {
  ojson body = ojson::parse(R"({"model":"auto","stream":false,"keep_alive":"5m",
    "messages":[{"role":"system","content":"be brief"},
                {"role":"user","content":"look","images":["iVBORw0KGgo="]},
                {"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]}],
    "options":{"temperature":0.2,"num_predict":9,"seed":3,"top_k":5},
    "format":"json"})");
  Redaction red;
  auto up = to_upstream(ApiKind::kOllamaChat, body, "gpt-x", redactor(), &red);
  ASSERT_TRUE(up.is_ok()) << up.status().message();
  EXPECT_EQ(up->path, "/chat/completions");
  const ojson& b = up->body;
  EXPECT_EQ(b["model"], "gpt-x");
  EXPECT_EQ(b["stream"], false);
  EXPECT_EQ(b["max_tokens"], 9);
  EXPECT_EQ(b["temperature"], 0.2);
  EXPECT_FALSE(b.contains("top_k"));
  EXPECT_FALSE(b.contains("keep_alive"));
  EXPECT_EQ(b["response_format"]["type"], "json_object");
  EXPECT_EQ(b["messages"][1]["content"][1]["image_url"]["url"], "data:image/png;base64,iVBORw0KGgo=");
  EXPECT_EQ(b["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"a\":1}");
}

TEST(Translate, OllamaGenerateStreamAsksForUsage) {
  ojson body = ojson::parse(R"({"model":"auto","prompt":"hi","system":"sys"})");
  Redaction red;
  auto up = to_upstream(ApiKind::kOllamaGenerate, body, "m", redactor(), &red);
  ASSERT_TRUE(up.is_ok());
  EXPECT_EQ(up->body["stream"], true);  // Ollama streams by default
  EXPECT_EQ(up->body["stream_options"]["include_usage"], true);
  EXPECT_EQ(up->body["messages"][0]["role"], "system");
  EXPECT_EQ(up->body["messages"][1]["content"], "hi");
}

TEST(Translate, RedactsUserTextOnly) {
  ojson body = ojson::parse(
      R"({"model":"a@b.com","messages":[{"role":"user","name":"x@y.org","content":"mail me at c@d.net"}]})");
  Redaction red;
  auto up = to_upstream(ApiKind::kOpenAIChat, body, "a@b.com", redactor(), &red);
  ASSERT_TRUE(up.is_ok());
  const std::string dumped = up->body.dump();
  EXPECT_EQ(dumped.find("c@d.net"), std::string::npos);
  EXPECT_NE(dumped.find("EMAIL_1"), std::string::npos);
  EXPECT_EQ(red.counts().at("email"), 1);
}

TEST(Translate, OpenAIAnswerToOllamaShapes) {
  ojson answer = ojson::parse(R"({"model":"m","choices":[{"index":0,"finish_reason":"length",
    "message":{"role":"assistant","content":"hello","tool_calls":[{"id":"c","type":"function",
    "function":{"name":"f","arguments":"{\"x\":2}"}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  Redaction red;
  Usage u;
  auto chat = from_upstream(ApiKind::kOllamaChat, answer, red, 1000, &u);
  ASSERT_TRUE(chat.is_ok());
  EXPECT_EQ((*chat)["message"]["content"], "hello");
  EXPECT_EQ((*chat)["message"]["tool_calls"][0]["function"]["arguments"]["x"], 2);
  EXPECT_EQ((*chat)["done_reason"], "length");
  EXPECT_EQ((*chat)["prompt_eval_count"], 3);
  EXPECT_EQ((*chat)["eval_count"], 4);
  EXPECT_TRUE(u.reported);
  auto gen = from_upstream(ApiKind::kOllamaGenerate, answer, red, 1000, &u);
  EXPECT_EQ((*gen)["response"], "hello");
  EXPECT_FALSE(from_upstream(ApiKind::kOllamaChat, ojson::parse("{}"), red, 0, &u).is_ok());
}

TEST(Translate, SseParser) {
  SseParser p;
  auto a = p.push("data: {\"a\":1}\n\nda");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], "{\"a\":1}");
  auto b = p.push("ta: x\r\ndata: y\r\n: comment\r\n\r\ndata: [DONE]\n\n");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], "x\ny");
  EXPECT_EQ(b[1], "[DONE]");
}

TEST(Translate, StreamToNdjsonRestoresPlaceholders) {
  Redaction red;
  const std::string ph = red.placeholder_for("email", "al@ex.com");
  StreamTranslator t(ApiKind::kOllamaGenerate, &red, false);
  std::string out;
  const std::string text = "to " + ph + " ok";
  for (size_t i = 0; i < text.size(); i += 3) {
    ojson ev = {{"model", "m"}, {"choices", {{{"index", 0}, {"delta", {{"content", text.substr(i, 3)}}}}}}};
    out += *t.on_event(ev.dump());
  }
  out += *t.on_event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  out += *t.on_event(R"({"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3}})");
  out += *t.on_event("[DONE]");
  out += t.on_end(5);
  std::string joined;
  ojson last;
  size_t start = 0;
  while (start < out.size()) {
    const size_t nl = out.find('\n', start);
    last = ojson::parse(out.substr(start, nl - start));
    joined += last["response"].get<std::string>();
    start = nl + 1;
  }
  EXPECT_EQ(joined, "to al@ex.com ok");
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["eval_count"], 3);
}

TEST(Translate, StreamOpenAIDropsUsageTheClientDidNotAskFor) {
  Redaction red;
  StreamTranslator t(ApiKind::kOpenAIChat, &red, false);
  EXPECT_EQ(*t.on_event(R"({"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3}})"), "");
  EXPECT_EQ(t.usage().completion_tokens, 3);
  EXPECT_EQ(*t.on_event("[DONE]"), "data: [DONE]\n\n");
  EXPECT_FALSE(t.on_event("{not json").is_ok());
}

}  // namespace
}  // namespace sov::router
