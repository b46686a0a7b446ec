// Hybrid routing through the real server: clients keep calling the local endpoints and the
// router sends requests to a fake OpenAI-compatible upstream on loopback or runs them on the
// local test model, falls back both ways, redacts, and records what left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "base/testdata.h"
#include "router/fake_upstream.h"
#include "router/router.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using router::test::FakeUpstream;

class RouterServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    home_ = fs::temp_directory_path() /
            ("sov_router_srv_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(home_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(home_);
  }

  // `extra` goes before the [local] table, `local_extra` into it, `backend_extra` into the
  // "cloud" backend's table.
  std::shared_ptr<router::Router> make_router(const std::string& extra, const std::string& local_extra = "",
                                              const std::string& backend_extra = "") {
    const std::string text = extra + "\n[local]\nmodel = \"stories260K\"\nfallback = \"cloud\"\n" +
                             local_extra + "\n[[backends]]\nname = \"cloud\"\nbase_url = \"" +
                             fake_.base_url() +
                             "\"\nmodel = \"big\"\nmodels = [\"big\"]\nretries = 2\nbackoff_ms = 1\n"
                             "price = { input = 1.0, output = 2.0 }\n" +
                             backend_extra;
    auto config = router::parse_config(text, [](const std::string&) { return std::nullopt; });
    EXPECT_TRUE(config.is_ok()) << config.status().message();
    auto r = router::Router::create(std::move(config).value(), home_.string());
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return *r;
  }

  void start(const std::string& extra, const std::function<void(ServerConfig&)>& tweak = {},
             const std::string& local_extra = "", const std::string& backend_extra = "") {
    router_ = make_router(extra, local_extra, backend_extra);
    server_ = std::make_unique<test::TestServer>(testdata_, [&](ServerConfig& c) {
      c.router = router_;
      if (tweak) tweak(c);
    });
  }

  size_t audit_rows() { return router_->audit().since(0)->size(); }

  std::string testdata_;
  fs::path home_;
  FakeUpstream fake_;
  std::shared_ptr<router::Router> router_;
  std::unique_ptr<test::TestServer> server_;
};

const char* kLongRule = "[[rules]]\nname = \"long\"\nmin_prompt_tokens = 40\nbackend = \"cloud\"\n";

json chat_body(const std::string& model, const std::string& text, bool stream = false) {
  return json{{"model", model},
              {"stream", stream},
              {"max_tokens", 8},
              {"temperature", 0},
              {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
}

TEST_F(RouterServerTest, AutoRoutesByRuleAndExplainsIt) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start(kLongRule);
  auto cli = server_->client();
  // Short: local.
  auto res =
      cli.Post("/v1/chat/completions", chat_body("auto", "Once upon a time").dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=local; model=stories260K; rule=default");
  EXPECT_EQ(fake_.count(), 0u);
  // Long: upstream, with the secret redacted on the way out and restored on the way back.
  const std::string long_text =
      "Please summarise this, then mail it to boss@corp.example: " + std::string(200, 'a');
  res = cli.Post("/v1/chat/completions", chat_body("auto", long_text).dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=cloud; model=big; rule=long");
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], "echo: " + long_text);
  ASSERT_EQ(fake_.count(), 1u);
  EXPECT_EQ(fake_.requests()[0].body.find("boss@corp.example"), std::string::npos);
  // Explain: the decision, without running anything.
  json ex = chat_body("auto", long_text);
  ex["api"] = "/api/chat";
  res = cli.Post("/api/route/explain", ex.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json d = json::parse(res->body);
  EXPECT_EQ(d["backend"], "cloud");
  EXPECT_EQ(d["rule"], "long");
  EXPECT_EQ(d["fallback"]["backend"], "local");
  // Counted with the local model's tokenizer, not estimated from the byte length.
  EXPECT_TRUE(d["prompt_tokens_counted"].get<bool>()) << res->body;
  EXPECT_NE(d["prompt_tokens_estimate"].get<int64_t>(), router::estimate_tokens(long_text)) << res->body;
  EXPECT_EQ(fake_.count(), 1u);
  // Hint header overrides the rules.
  httplib::Headers hint = {{"X-Sov-Route", "local"}};
  res = cli.Post("/api/route/explain", hint, ex.dump(), "application/json");
  EXPECT_EQ(json::parse(res->body)["rule"], "hint");
  // The audit log and /metrics saw exactly one upstream request.
  res = cli.Get("/api/audit");
  ASSERT_EQ(res->status, 200);
  json audit = json::parse(res->body)["entries"];
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["backend"], "cloud");
  EXPECT_EQ(audit[0]["rule"], "long");
  EXPECT_EQ(audit[0]["redactions"]["email"], 1);
  res = cli.Get("/metrics");
  EXPECT_NE(res->body.find("sov_upstream_requests_total{backend=\"cloud\"} 1"), std::string::npos);
  EXPECT_NE(res->body.find("sov_router_decisions_total{backend=\"local\",rule=\"default\"} 1"),
            std::string::npos);
  res = cli.Get("/api/route");
  EXPECT_EQ(json::parse(res->body)["backends"][0]["name"], "cloud");
}

TEST_F(RouterServerTest, PromptsOverTheLocalContextGoUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start("[[rules]]\nname = \"too-big\"\nexceeds_local_context = true\nbackend = \"cloud\"\n");
  auto cli = server_->client();
  // stories260K runs with a 2048-token context here; 12000 bytes are about 3000 tokens.
  for (const auto& [size, rule] :
       std::vector<std::pair<size_t, std::string>>{{400, "default"}, {12000, "too-big"}}) {
    auto res =
        cli.Post("/api/route/explain", chat_body("auto", std::string(size, 'z')).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(json::parse(res->body)["rule"], rule) << res->body;
  }
  EXPECT_EQ(fake_.count(), 0u);
}

TEST_F(RouterServerTest, OllamaClientsGetOllamaShapesFromAnOpenAIUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start("");
  auto cli = server_->client();
  // /api/chat streamed (Ollama's default): NDJSON from SSE.
  json body = {{"model", "big"},
               {"messages", json::array({{{"role", "user"}, {"content", "hi 555-867-5309 there"}}})}};
  auto res = cli.Post("/api/chat", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  std::string text;
  auto lines = test::ndjson(res->body);
  ASSERT_GE(lines.size(), 2u);
  for (const auto& l : lines) text += l["message"]["content"].get<std::string>();
  EXPECT_EQ(text, "echo: hi 555-867-5309 there");
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_EQ(lines.back()["eval_count"], 7);
  EXPECT_EQ(fake_.requests().back().body.find("867-5309"), std::string::npos);
  // /api/generate, not streamed.
  json gen = {{"model", "big"}, {"prompt", "say hi"}, {"stream", false}};
  res = cli.Post("/api/generate", gen.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  json g = json::parse(res->body);
  EXPECT_EQ(g["response"], "echo: say hi");
  EXPECT_EQ(g["done"], true);
  // /v1/completions, streamed: SSE passed through.
  json comp = {{"model", "big"}, {"prompt", "complete me"}, {"stream", true}};
  res = cli.Post("/v1/completions", comp.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  bool done = false;
  auto events = test::sse_events(res->body, &done);
  EXPECT_TRUE(done);
  std::string ctext;
  for (const auto& e : events) ctext += e["choices"][0].value("text", "");
  EXPECT_EQ(ctext, "echo: complete me");
  EXPECT_EQ(fake_.requests().back().path, "/v1/completions");
  EXPECT_EQ(audit_rows(), 3u);
}

TEST_F(RouterServerTest, UpstreamFailureFallsBackToLocal) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start("");
  fake_.script(
      {FakeUpstream::Mode::kFail500, FakeUpstream::Mode::kRateLimit429, FakeUpstream::Mode::kFail500});
  auto cli = server_->client();
  auto res =
      cli.Post("/v1/chat/completions", chat_body("big", "Once upon a time").dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"),
            "backend=local; model=stories260K; rule=fallback; from=cloud");
  EXPECT_EQ(json::parse(res->body)["model"], "stories260K");
  EXPECT_EQ(fake_.count(), 3u);
  EXPECT_EQ(audit_rows(), 3u);  // each failed attempt left the machine
}

TEST_F(RouterServerTest, LocalOverloadFallsBackToUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  // A queue of size 0: every local generation is refused with 503 (queue full).
  start("", [](ServerConfig& c) { c.max_queue = 0; });
  auto cli = server_->client();
  auto res = cli.Post("/api/generate", json{{"model", "auto"}, {"prompt", "hello"}, {"stream", true}}.dump(),
                      "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=cloud; model=big; rule=fallback; from=local");
  std::string text;
  for (const auto& l : test::ndjson(res->body)) text += l.value("response", "");
  EXPECT_EQ(text, "echo: hello");
  EXPECT_EQ(fake_.count(), 1u);
  auto entries = router_->audit().since(0);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].rule, "fallback");
}

TEST_F(RouterServerTest, SlowLocalStartFallsBackToUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start("", {}, "first_token_timeout_ms = 200\n");
  auto cli = server_->client();
  const std::string body = json{{"model", "auto"}, {"prompt", "hello"}, {"stream", true}}.dump();
  // Loaded and answering locally while the cores are free.
  auto res = cli.Post("/api/generate", body, "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=local; model=stories260K; rule=default");
  {
    // Busy cores: no forward pass can start, so no first token within the timeout.
    scheduler::ComputeGate::Turn busy = server_->server().manager().gate().enter();
    res = cli.Post("/api/generate", body, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=cloud; model=big; rule=fallback; from=local");
    std::string text;
    for (const auto& l : test::ndjson(res->body)) text += l.value("response", "");
    EXPECT_EQ(text, "echo: hello");
  }
  EXPECT_EQ(fake_.count(), 1u);
  res = cli.Post("/api/generate", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=local; model=stories260K; rule=default");
  EXPECT_EQ(fake_.count(), 1u);
}

// An upstream allowed private data answers knowledge requests grounded on this machine:
// it receives the retrieved passages (redacted), never the "knowledge" field.
TEST_F(RouterServerTest, KnowledgeRequestsAreGroundedBeforeGoingUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start(
      "", [&](ServerConfig& c) { c.kb_root = (home_ / "kb").string(); }, "", "allow_private = true\n");
  auto cli = server_->client();
  auto res = cli.Post("/api/kb", json{{"name", "notes"}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  json docs = {{"documents",
                {{{"name", "otters"},
                  {"text", "Sea otters hold hands while they sleep. Ask otto@example.com for more."}}}}};
  res = cli.Post("/api/kb/notes/documents", docs.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;

  json body = chat_body("big", "Why do sea otters hold hands?");
  body["knowledge"] = {{"base", "notes"}, {"mode", "keyword"}};
  res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=cloud; model=big; rule=model");
  const json answer = json::parse(res->body);
  ASSERT_EQ(answer["sources"].size(), 1u) << res->body;
  EXPECT_EQ(answer["sources"][0]["path"], "text:otters");

  const auto sent = fake_.requests();
  ASSERT_EQ(sent.size(), 1u);
  const json upstream_body = json::parse(sent[0].body);
  EXPECT_FALSE(upstream_body.contains("knowledge")) << sent[0].body;
  EXPECT_NE(sent[0].body.find("hold hands while they sleep"), std::string::npos) << sent[0].body;
  EXPECT_EQ(sent[0].body.find("otto@example.com"), std::string::npos) << sent[0].body;

  // A base that does not exist is the client's error, and nothing leaves.
  body["knowledge"] = {{"base", "missing"}};
  res = cli.Post("/v1/chat/completions", body.dump(), "application/json");
  EXPECT_EQ(res->status, 404) << res->body;
  EXPECT_EQ(fake_.count(), 1u);
}

TEST_F(RouterServerTest, PolicyRefusalsNeverReachTheUpstream) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start("");
  auto cli = server_->client();
  httplib::Headers priv = {{"X-Sov-Private", "1"}};
  auto res =
      cli.Post("/v1/chat/completions", priv, chat_body("big", "my private notes").dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find("allow_private"), std::string::npos) << res->body;
  // Auto with private data stays local.
  res = cli.Post("/v1/chat/completions", priv, chat_body("auto", "Once upon a time").dump(),
                 "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Sov-Route"), "backend=local; model=stories260K; rule=default");
  EXPECT_EQ(fake_.count(), 0u);
  EXPECT_EQ(audit_rows(), 0u);
}

TEST_F(RouterServerTest, OfflineModeRefusesRemoteUpstreams) {
  SOV_REQUIRE_TESTDATA(td);
  testdata_ = td;
  start(
      "offline = true\n[[backends]]\nname = \"far\"\nbase_url = \"https://192.0.2.1/v1\"\nmodels = "
      "[\"remote\"]\n");
  auto cli = server_->client();
  auto res = cli.Post("/v1/chat/completions", chat_body("remote", "hi").dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find("offline mode"), std::string::npos) << res->body;
  // The loopback upstream is still allowed.
  res = cli.Post("/v1/chat/completions", chat_body("big", "hi").dump(), "application/json");
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(audit_rows(), 1u);
}

}  // namespace
}  // namespace sov::server
