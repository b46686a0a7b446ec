// HTTP-level tests of every endpoint and error path, against an in-process server.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "base/testdata.h"
#include "chat/chat_template.h"
#include "gguf/writer.h"
#include "server/server_test_util.h"
#include "sovereign/version.h"
#include "tokenizer/tokenizer.h"

namespace sov::server {
namespace {

using nlohmann::json;
using test::TestServer;

const char* kJson = "application/json";

json post_json(httplib::Client& c, const std::string& path, const json& body, int* status = nullptr) {
  auto res = c.Post(path, body.dump(), kJson);
  EXPECT_TRUE(res) << path;
  if (!res) return json();
  if (status) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

json greedy_options(int n) {
  return json{{"temperature", 0}, {"repeat_penalty", 1}, {"num_predict", n}};
}

void expect_ollama_error(const httplib::Result& res, int status, const std::string& fragment = "") {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, status) << res->body;
  json body = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << res->body;
  ASSERT_TRUE(body["error"].is_string()) << res->body;
  if (!fragment.empty()) {
    EXPECT_NE(body["error"].get<std::string>().find(fragment), std::string::npos) << res->body;
  }
}

void expect_openai_error(const httplib::Result& res, int status, const char* code = nullptr) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, status) << res->body;
  json body = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << res->body;
  ASSERT_TRUE(body["error"].is_object()) << res->body;
  EXPECT_TRUE(body["error"]["message"].is_string());
  EXPECT_TRUE(body["error"]["type"].is_string());
  if (code) {
    EXPECT_EQ(body["error"]["code"], code) << res->body;
  }
}

std::string sha_of(const std::string& testdata, const std::string& file) {
  std::ifstream in(testdata + "/models/SHA256SUMS");
  std::string sum, name;
  while (in >> sum >> name) {
    if (name == file || name == "*" + file) return sum;
  }
  return "";
}

TEST(Http, BasicEndpoints) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  auto root = c.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_EQ(root->body, "Sovereign is running");
  auto version = c.Get("/api/version");
  ASSERT_TRUE(version);
  EXPECT_EQ(json::parse(version->body)["version"], SOV_VERSION_STRING);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  expect_ollama_error(c.Get("/api/nothing"), 404, "not found");
  // A request is counted by the logger after its response went out, so the count may lag
  // the client by a moment: poll.
  const std::string not_found = "sov_http_requests_total{route=\"other\",status=\"404\"} 1";
  std::string body;
  for (int i = 0; i < 250 && body.find(not_found) == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto metrics = c.Get("/metrics");
    ASSERT_TRUE(metrics);
    ASSERT_EQ(metrics->status, 200);
    body = metrics->body;
  }
  EXPECT_NE(body.find("sov_http_requests_total{route=\"/api/version\",status=\"200\"} 1"), std::string::npos)
      << body;
  EXPECT_NE(body.find(not_found), std::string::npos) << body;
  EXPECT_NE(body.find("sov_loaded_models 0"), std::string::npos);
}

TEST(Http, TagsShowCopyDelete) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  auto tags = c.Get("/api/tags");
  ASSERT_TRUE(tags);
  json models = json::parse(tags->body)["models"];
  ASSERT_EQ(models.size(), 2u) << tags->body;
  const json& m = models[1];
  EXPECT_EQ(m["name"], "stories260K:latest");
  EXPECT_EQ(m["model"], "stories260K:latest");
  EXPECT_EQ(m["size"], 1185376);
  EXPECT_EQ(m["digest"], sha_of(dir, "stories260K.gguf"));
  EXPECT_EQ(m["details"]["format"], "gguf");
  EXPECT_EQ(m["details"]["family"], "llama");
  EXPECT_EQ(m["details"]["quantization_level"], "F32");
  EXPECT_TRUE(std::regex_match(m["modified_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")));
  EXPECT_EQ(models[0]["details"]["quantization_level"], "Q4_0");

  int status = 0;
  json show = post_json(c, "/api/show", {{"model", "stories260K"}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(show["model_info"]["general.architecture"], "llama");
  EXPECT_EQ(show["model_info"]["tokenizer.ggml.tokens"], json::array());  // large arrays only when verbose
  EXPECT_EQ(show["details"]["family"], "llama");
  EXPECT_FALSE(show["template"].get<std::string>().empty());
  EXPECT_EQ(show["capabilities"][0], "completion");
  json verbose = post_json(c, "/api/show", {{"model", "stories260K"}, {"verbose", true}});
  EXPECT_EQ(verbose["model_info"]["tokenizer.ggml.tokens"].size(), 512u);
  expect_ollama_error(c.Post("/api/show", R"({"model": "missing"})", kJson), 404);
  expect_ollama_error(c.Post("/api/show", R"({})", kJson), 400, "model");

  auto copy = c.Post("/api/copy", R"({"source": "stories260K", "destination": "mine:v1"})", kJson);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->status, 200);
  EXPECT_EQ(json::parse(c.Get("/api/tags")->body)["models"].size(), 3u);
  expect_ollama_error(c.Post("/api/copy", R"({"source": "missing", "destination": "x"})", kJson), 404);
  expect_ollama_error(c.Post("/api/copy", R"({"source": "stories260K", "destination": "../x"})", kJson), 400);
  expect_ollama_error(c.Post("/api/copy", R"({"source": "stories260K"})", kJson), 400);
  auto del = c.Delete("/api/delete", R"({"model": "mine:v1"})", kJson);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  expect_ollama_error(c.Delete("/api/delete", R"({"model": "mine:v1"})", kJson), 404);
  expect_ollama_error(c.Delete("/api/delete", R"({"model": "/etc/passwd"})", kJson), 400);
  EXPECT_EQ(json::parse(c.Get("/api/tags")->body)["models"].size(), 2u);
}

TEST(Http, GenerateMatchesTheReference) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  auto ref = test::stories_reference(dir);
  int status = 0;
  json r = post_json(
      c, "/api/generate",
      {{"model", "stories260K"}, {"prompt", ref.prompt}, {"stream", false}, {"options", greedy_options(16)}},
      &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["model"], "stories260K");
  EXPECT_EQ(r["response"], ref.text);
  EXPECT_EQ(r["done"], true);
  EXPECT_EQ(r["done_reason"], "length");
  EXPECT_EQ(r["prompt_eval_count"], ref.n_prompt);
  EXPECT_EQ(r["eval_count"], 16);
  for (const char* k : {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"}) {
    EXPECT_TRUE(r[k].is_number_integer()) << k;
  }
  EXPECT_GT(r["load_duration"].get<int64_t>(), 0);  // the first request loaded the model
  ASSERT_TRUE(r["context"].is_array());
  EXPECT_EQ(r["context"].size(), static_cast<size_t>(ref.n_prompt + 16));
  EXPECT_TRUE(std::regex_match(r["created_at"].get<std::string>(), std::regex(R"(\d{4}-.*Z)")));

  // Streaming gives the same text in NDJSON chunks; the model stays loaded.
  auto res = c.Post(
      "/api/generate",
      json{{"model", "stories260K"}, {"prompt", ref.prompt}, {"options", greedy_options(16)}}.dump(), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("application/x-ndjson"), std::string::npos);
  auto lines = test::ndjson(res->body);
  ASSERT_GE(lines.size(), 3u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["done"], false);
    text += lines[i]["response"].get<std::string>();
  }
  EXPECT_EQ(text, ref.text);
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_EQ(lines.back()["response"], "");
  EXPECT_EQ(lines.back()["load_duration"], 0);
  EXPECT_EQ(lines.back()["eval_count"], 16);

  // The context of the first answer continues the conversation: the prefix is reused.
  json next = post_json(c, "/api/generate",
                        {{"model", "stories260K"},
                         {"prompt", " Then"},
                         {"context", r["context"]},
                         {"stream", false},
                         {"options", greedy_options(4)}});
  EXPECT_EQ(next["done"], true);
  EXPECT_GT(next["prompt_eval_count"].get<int>(), ref.n_prompt + 16);
  auto metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("sov_prompt_cached_tokens_total{model=\"stories260K:latest\"}"), std::string::npos);

  // raw mode gives no context; system and a trivial Go template are applied.
  json raw = post_json(c, "/api/generate",
                       {{"model", "stories260K"},
                        {"prompt", "Once"},
                        {"raw", true},
                        {"stream", false},
                        {"options", greedy_options(2)}});
  EXPECT_FALSE(raw.contains("context"));
  json templ = post_json(c, "/api/generate",
                         {{"model", "stories260K"},
                          {"prompt", "upon a time"},
                          {"template", "Once {{ .Prompt }}"},
                          {"stream", false},
                          {"options", greedy_options(4)}},
                         &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(templ["prompt_eval_count"], 5);  // BOS + "Once upon a time"
}

TEST(Http, ChatLoadUnloadAndKeepAlive) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  int status = 0;
  json load = post_json(c, "/api/chat", {{"model", "stories260K"}, {"messages", json::array()}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(load["done_reason"], "load");
  EXPECT_EQ(load["message"]["role"], "assistant");
  json ps = json::parse(c.Get("/api/ps")->body);
  ASSERT_EQ(ps["models"].size(), 1u);
  EXPECT_EQ(ps["models"][0]["name"], "stories260K:latest");
  EXPECT_GT(ps["models"][0]["size"].get<int64_t>(), 1185376);
  EXPECT_TRUE(ps["models"][0]["expires_at"].is_string());
  EXPECT_EQ(ps["models"][0]["details"]["family"], "llama");

  json msgs = json::array({{{"role", "system"}, {"content", "You tell stories."}},
                           {{"role", "user"}, {"content", "Tell me about a cat."}}});
  json chat = post_json(
      c, "/api/chat",
      {{"model", "stories260K"}, {"messages", msgs}, {"stream", false}, {"options", greedy_options(12)}},
      &status);
  ASSERT_EQ(status, 200) << chat.dump();
  EXPECT_EQ(chat["message"]["role"], "assistant");
  EXPECT_TRUE(chat["message"]["content"].is_string());
  EXPECT_EQ(chat["done"], true);
  EXPECT_EQ(chat["eval_count"].get<int>() <= 12, true);
  EXPECT_GT(chat["prompt_eval_count"].get<int>(), 10);

  auto res = c.Post(
      "/api/chat", json{{"model", "stories260K"}, {"messages", msgs}, {"options", greedy_options(12)}}.dump(),
      kJson);
  ASSERT_TRUE(res);
  auto lines = test::ndjson(res->body);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) text += lines[i]["message"]["content"].get<std::string>();
  EXPECT_EQ(text, chat["message"]["content"]);
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_EQ(lines.back()["done_reason"], chat["done_reason"]);

  // keep_alive 0 on a real request unloads right after it.
  json once = post_json(c, "/api/generate",
                        {{"model", "TinyLLama-v0.Q4_0"},
                         {"prompt", "Hi"},
                         {"keep_alive", 0},
                         {"stream", false},
                         {"options", greedy_options(2)}},
                        &status);
  EXPECT_EQ(status, 200) << once.dump();
  ps = json::parse(c.Get("/api/ps")->body);
  ASSERT_EQ(ps["models"].size(), 1u) << ps.dump();
  EXPECT_EQ(ps["models"][0]["name"], "stories260K:latest");
  // An empty prompt with keep_alive 0 unloads.
  json unload = post_json(c, "/api/generate", {{"model", "stories260K"}, {"keep_alive", 0}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(unload["done_reason"], "unload");
  EXPECT_EQ(json::parse(c.Get("/api/ps")->body)["models"].size(), 0u);
  expect_ollama_error(c.Post("/api/generate", R"({"model": "ghost", "keep_alive": 0})", kJson), 404);
  // A duration string keeps it loaded; forever too.
  post_json(c, "/api/generate", {{"model", "stories260K"}, {"keep_alive", "1h"}});
  post_json(c, "/api/generate", {{"model", "TinyLLama-v0.Q4_0"}, {"keep_alive", -1}});
  EXPECT_EQ(json::parse(c.Get("/api/ps")->body)["models"].size(), 2u);
}

// Copies stories260K with a chat template added (the test models have none).
void write_model_with_template(const std::string& testdata, const std::string& tmpl, const std::string& out) {
  auto file = gguf::File::open(testdata + "/models/stories260K.gguf");
  ASSERT_TRUE(file.is_ok());
  gguf::Writer w;
  for (const auto& kv : file->metadata()) w.set(kv.key, kv.value);
  w.set("tokenizer.chat_template", tmpl);
  for (const auto& t : file->tensors()) {
    std::vector<int64_t> shape(t.info.ne, t.info.ne + t.info.n_dims);
    ASSERT_TRUE(w.add_tensor_view(t.info.name, t.info.type, shape, {t.data, t.info.n_bytes}).is_ok());
  }
  ASSERT_TRUE(w.write(out).is_ok());
}

TEST(Http, ModelChatTemplateIsUsed) {
  SOV_REQUIRE_TESTDATA(dir);
  std::ifstream in(dir + "/chat_templates/Qwen-Qwen2.5-7B-Instruct.json");
  const std::string tmpl = json::parse(in)["template"];
  TestServer s(dir);
  write_model_with_template(dir, tmpl, (s.models_dir() / "qwen-shaped.gguf").string());
  auto c = s.client();
  int status = 0;
  json show = post_json(c, "/api/show", {{"model", "qwen-shaped"}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(show["template"], tmpl);
  EXPECT_NE(std::find(show["capabilities"].begin(), show["capabilities"].end(), "tools"),
            show["capabilities"].end());

  json msgs = json::array({{{"role", "user"}, {"content", "Hello there"}}});
  json tools =
      json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
  json r = post_json(c, "/api/chat",
                     {{"model", "qwen-shaped"},
                      {"messages", msgs},
                      {"tools", tools},
                      {"stream", false},
                      {"options", greedy_options(3)}},
                     &status);
  ASSERT_EQ(status, 200) << r.dump();
  // The prompt is exactly the model's template rendered with the tools, then tokenized.
  auto model_file = gguf::File::open((s.models_dir() / "qwen-shaped.gguf").string());
  ASSERT_TRUE(model_file.is_ok());
  auto tok = tokenizer::Tokenizer::from_gguf(*model_file);
  ASSERT_TRUE(tok.is_ok());
  auto text = chat::render_chat(tmpl, nlohmann::ordered_json::parse(msgs.dump()),
                                nlohmann::ordered_json::parse(tools.dump()), true,
                                (*tok)->piece((*tok)->bos()), (*tok)->piece((*tok)->eos()));
  ASSERT_TRUE(text.is_ok()) << text.status().to_string();
  EXPECT_NE(text->find("get_weather"), std::string::npos);
  EXPECT_EQ(r["prompt_eval_count"], (*tok)->encode(*text, true, true).size());
}

TEST(Http, OllamaErrorPaths) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  expect_ollama_error(c.Post("/api/generate", "{not json", kJson), 400, "invalid JSON");
  expect_ollama_error(c.Post("/api/generate", "", kJson), 400, "missing request body");
  expect_ollama_error(c.Post("/api/generate", "[1,2]", kJson), 400, "object");
  expect_ollama_error(c.Post("/api/generate", R"({"prompt": "x"})", kJson), 400, "model");
  expect_ollama_error(c.Post("/api/generate", R"({"model": 5, "prompt": "x"})", kJson), 400, "model");
  expect_ollama_error(c.Post("/api/generate", R"({"model": "stories260K", "prompt": 5})", kJson), 400,
                      "prompt");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "stream": "yes"})", kJson), 400,
      "stream");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "options": {"temperature": "hot"}})",
             kJson),
      400, "temperature");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "options": {"top_p": 7}})", kJson),
      400);
  expect_ollama_error(c.Post("/api/generate", R"({"model": "nope", "prompt": "x"})", kJson), 404,
                      "not found");
  expect_ollama_error(c.Post("/api/generate", R"({"model": "../../etc/passwd", "prompt": "x"})", kJson), 400);
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "images": ["aGk="]})", kJson), 400,
      "images");
  // "format" is enforced by a grammar (server_grammar_test.cpp); what it cannot enforce is a 400.
  expect_ollama_error(
      c.Post("/api/generate",
             R"({"model": "stories260K", "prompt": "x", "format": {"type": "array", "uniqueItems": true}})",
             kJson),
      400, "uniqueItems");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "format": "xml"})", kJson), 400);
  expect_ollama_error(
      c.Post("/api/generate",
             R"({"model": "stories260K", "prompt": "x", "template": "{{ range .Messages }}"})", kJson),
      400, "Go templates");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "suffix": "y"})", kJson), 400,
      "insert");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "keep_alive": "soon"})", kJson), 400,
      "keep_alive");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "context": ["a"]})", kJson), 400,
      "context");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "context": [99999]})", kJson), 400,
      "vocabulary");
  expect_ollama_error(
      c.Post("/api/generate", R"({"model": "stories260K", "prompt": "x", "options": {"num_ctx": 100000}})",
             kJson),
      400, "trained");
  expect_ollama_error(c.Post("/api/chat", R"({"model": "stories260K", "messages": {}})", kJson), 400,
                      "messages");
  expect_ollama_error(
      c.Post("/api/chat", R"({"model": "stories260K", "messages": [{"role": "x", "content": "y"}]})", kJson),
      400, "role");
  expect_ollama_error(
      c.Post("/api/chat", R"({"model": "stories260K", "messages": [{"role": "user", "content": 1}]})", kJson),
      400, "content");
  expect_ollama_error(
      c.Post("/api/chat",
             R"({"model": "stories260K", "messages": [{"role": "user", "content": "x"}], "tools": [1]})",
             kJson),
      400, "tool");

  // A prompt longer than the context is refused with a clear message, never silently cut...
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += "Once upon a time there was a girl. ";
  json req = {{"model", "stories260K"},
              {"prompt", long_prompt},
              {"stream", false},
              {"options", {{"num_ctx", 64}, {"num_predict", 4}}}};
  expect_ollama_error(c.Post("/api/generate", req.dump(), kJson), 400, "context length is 64");
  // ...unless truncation is asked for.
  req["truncate"] = true;
  int status = 0;
  json ok = post_json(c, "/api/generate", req, &status);
  EXPECT_EQ(status, 200) << ok.dump();
  EXPECT_LE(ok["prompt_eval_count"].get<int>(), 64);
  EXPECT_EQ(ok["context"].size(), ok["prompt_eval_count"].get<size_t>() + ok["eval_count"].get<size_t>());
}

TEST(Http, OpenAiEndpoints) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  auto ref = test::stories_reference(dir);
  json models = json::parse(c.Get("/v1/models")->body);
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 2u);
  EXPECT_EQ(models["data"][1]["id"], "stories260K:latest");
  EXPECT_EQ(models["data"][1]["object"], "model");
  auto one = c.Get("/v1/models/stories260K:latest");
  ASSERT_TRUE(one);
  EXPECT_EQ(json::parse(one->body)["id"], "stories260K:latest");
  expect_openai_error(c.Get("/v1/models/nope"), 404, "model_not_found");

  int status = 0;
  json comp = post_json(
      c, "/v1/completions",
      {{"model", "stories260K"}, {"prompt", ref.prompt}, {"max_tokens", 16}, {"temperature", 0}}, &status);
  ASSERT_EQ(status, 200) << comp.dump();
  EXPECT_EQ(comp["object"], "text_completion");
  EXPECT_EQ(comp["choices"][0]["text"], ref.text);
  EXPECT_EQ(comp["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(comp["usage"]["prompt_tokens"], ref.n_prompt);
  EXPECT_EQ(comp["usage"]["completion_tokens"], 16);
  EXPECT_EQ(comp["usage"]["total_tokens"], ref.n_prompt + 16);
  EXPECT_TRUE(comp["id"].get<std::string>().starts_with("cmpl-"));

  json echo = post_json(c, "/v1/completions",
                        {{"model", "stories260K"},
                         {"prompt", "Once"},
                         {"max_tokens", 3},
                         {"temperature", 0},
                         {"echo", true},
                         {"logprobs", 2}});
  EXPECT_TRUE(echo["choices"][0]["text"].get<std::string>().starts_with("Once"));
  EXPECT_EQ(echo["choices"][0]["logprobs"]["tokens"].size(), 3u);
  EXPECT_EQ(echo["choices"][0]["logprobs"]["top_logprobs"][0].size(), 2u);

  json msgs = json::array({{{"role", "user"}, {"content", "Tell me a story."}}});
  json chat = post_json(c, "/v1/chat/completions",
                        {{"model", "stories260K"},
                         {"messages", msgs},
                         {"max_tokens", 8},
                         {"temperature", 0},
                         {"n", 2},
                         {"logprobs", true},
                         {"top_logprobs", 2}},
                        &status);
  ASSERT_EQ(status, 200) << chat.dump();
  EXPECT_EQ(chat["object"], "chat.completion");
  ASSERT_EQ(chat["choices"].size(), 2u);
  EXPECT_EQ(chat["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(chat["choices"][0]["message"]["content"], chat["choices"][1]["message"]["content"]);  // greedy
  EXPECT_EQ(chat["choices"][1]["index"], 1);
  const json& lp = chat["choices"][0]["logprobs"]["content"];
  ASSERT_FALSE(lp.empty());
  EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(lp[0]["top_logprobs"][0]["token"], lp[0]["token"]);
  EXPECT_EQ(chat["usage"]["completion_tokens"],
            chat["choices"].size() * lp.size());  // both greedy choices have the same length

  // Streaming: role first, content deltas, finish_reason, usage, [DONE].
  auto res = c.Post("/v1/chat/completions",
                    json{{"model", "stories260K"},
                         {"messages", msgs},
                         {"max_tokens", 8},
                         {"temperature", 0},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}}
                        .dump(),
                    kJson);
  ASSERT_TRUE(res);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  bool done = false;
  auto events = test::sse_events(res->body, &done);
  EXPECT_TRUE(done);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  std::string finish;
  for (const auto& e : events) {
    if (e["choices"].empty()) continue;
    const json& ch = e["choices"][0];
    if (ch["delta"].contains("content")) text += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(text, chat["choices"][0]["message"]["content"]);
  EXPECT_FALSE(finish.empty());
  EXPECT_TRUE(events.back()["choices"].empty());
  EXPECT_EQ(events.back()["usage"]["completion_tokens"], lp.size());

  auto cres = c.Post("/v1/completions",
                     json{{"model", "stories260K"},
                          {"prompt", ref.prompt},
                          {"max_tokens", 16},
                          {"temperature", 0},
                          {"stream", true}}
                         .dump(),
                     kJson);
  auto cevents = test::sse_events(cres->body, &done);
  EXPECT_TRUE(done);
  std::string ctext;
  for (const auto& e : cevents) ctext += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(ctext, ref.text);
  EXPECT_EQ(cevents.back()["choices"][0]["finish_reason"], "length");

  // Per-request context length through the extension field.
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += "Once upon a time there was a girl. ";
  expect_openai_error(
      c.Post("/v1/completions",
             json{{"model", "stories260K"}, {"prompt", long_prompt}, {"num_ctx", 64}}.dump(), kJson),
      400);
}

TEST(Http, OpenAiErrorPaths) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  auto post = [&](const std::string& path, const std::string& body) { return c.Post(path, body, kJson); };
  expect_openai_error(post("/v1/chat/completions", "{bad"), 400);
  expect_openai_error(post("/v1/chat/completions", R"({"model": "stories260K"})"), 400);
  expect_openai_error(post("/v1/chat/completions", R"({"model": "stories260K", "messages": []})"), 400);
  expect_openai_error(
      post("/v1/chat/completions", R"({"model": "ghost", "messages": [{"role":"user","content":"x"}]})"), 404,
      "model_not_found");
  const std::string m = R"("model": "stories260K", "messages": [{"role":"user","content":"x"}])";
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "temperature": 5})"), 400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "n": 0})"), 400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "max_tokens": "ten"})"), 400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "response_format": {"type": "xml"}})"),
                      400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "response_format": {"type": "json_schema",
      "json_schema": {"name": "x", "strict": true, "schema": {"type": "string", "pattern": "\\bx"}}}})"),
                      400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "tool_choice": "sometimes"})"), 400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "top_logprobs": 3})"), 400);
  expect_openai_error(post("/v1/chat/completions", "{" + m + R"(, "logprobs": true, "top_logprobs": 30})"),
                      400);
  expect_openai_error(post("/v1/completions", R"({"model": "stories260K"})"), 400);
  expect_openai_error(post("/v1/completions", R"({"model": "stories260K", "prompt": ["a", "b"]})"), 400);
  expect_openai_error(post("/v1/completions", R"({"model": "stories260K", "prompt": "x", "suffix": "y"})"),
                      400);
  // A tool-call round trip is accepted: tools offered, an assistant call and a tool result sent back.
  int status = 0;
  json r = post_json(c, "/v1/chat/completions",
                     json::parse(R"({"model": "stories260K", "max_tokens": 4, "tools": [{"type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object"}}}], "tool_choice": "auto",
        "messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": null,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather",
        "arguments": "{\"city\": \"Paris\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]})"),
                     &status);
  EXPECT_EQ(status, 200) << r.dump();
}

TEST(Http, SecurityChecks) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) {
    c.api_key = "test-key";
    c.origins = {"https://ui.example"};
  });
  auto c = s.client();
  // The key is required everywhere but / and /health.
  EXPECT_EQ(c.Get("/")->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
  expect_ollama_error(c.Get("/api/tags"), 401, "API key");
  expect_openai_error(c.Get("/v1/models"), 401, "invalid_api_key");
  expect_ollama_error(c.Get("/metrics"), 401);
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  expect_ollama_error(c.Get("/api/tags", wrong), 401);
  httplib::Headers right = {{"Authorization", "Bearer test-key"}};
  EXPECT_EQ(c.Get("/api/tags", right)->status, 200);
  EXPECT_EQ(c.Get("/v1/models", right)->status, 200);

  // DNS rebinding: a foreign Host is refused before anything else.
  httplib::Headers rebinding = {{"Host", "attacker.example:11434"}, {"Authorization", "Bearer test-key"}};
  expect_ollama_error(c.Get("/api/tags", rebinding), 403, "Host");
  httplib::Headers local_host = {{"Host", "localhost:11434"}, {"Authorization", "Bearer test-key"}};
  EXPECT_EQ(c.Get("/api/tags", local_host)->status, 200);

  // CORS: allowed origins are echoed, others refused; preflight answers without a key.
  httplib::Headers evil = {{"Origin", "https://evil.example"}, {"Authorization", "Bearer test-key"}};
  expect_ollama_error(c.Get("/api/tags", evil), 403, "origin");
  httplib::Headers ui = {{"Origin", "https://ui.example"}, {"Authorization", "Bearer test-key"}};
  auto ok = c.Get("/api/tags", ui);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "https://ui.example");
  httplib::Headers local_ui = {{"Origin", "http://localhost:5173"}, {"Authorization", "Bearer test-key"}};
  EXPECT_EQ(c.Get("/api/tags", local_ui)->get_header_value("Access-Control-Allow-Origin"),
            "http://localhost:5173");
  httplib::Headers preflight = {{"Origin", "https://ui.example"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto pre = c.Options("/api/chat", preflight);
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Headers"), "authorization, content-type");
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
}

TEST(Http, BodyAndHeaderLimits) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) { c.max_body_bytes = 1024; });
  auto c = s.client();
  std::string big = R"({"model": "stories260K", "prompt": ")" + std::string(4096, 'a') + R"("})";
  expect_ollama_error(c.Post("/api/generate", big, kJson), 413, "too large");
  expect_openai_error(c.Post("/v1/completions", big, kJson), 413);
  httplib::Headers many;
  for (int i = 0; i < 20; ++i) many.emplace("X-Filler-" + std::to_string(i), std::string(4000, 'x'));
  expect_ollama_error(c.Get("/api/tags", many), 431);
  EXPECT_EQ(c.Get("/api/tags")->status, 200);
}

}  // namespace
}  // namespace sov::server
