// The router against a real (fake) OpenAI-compatible upstream on loopback: routing rules,
// retries and failures, redaction of what leaves, restoration of what comes back, offline
// mode and the audit log.
#include "router/router.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "router/fake_upstream.h"

namespace sov::router {
namespace {

namespace fs = std::filesystem;
using test::FakeUpstream;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("sov_router_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A router with one upstream "cloud" at the fake, plus `extra` TOML.
  std::shared_ptr<Router> make(const std::string& extra, const std::string& backend_extra = "") {
    const std::string text =
        extra + "\n[[backends]]\nname = \"cloud\"\nbase_url = \"" + fake_.base_url() +
        "\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"big\"\nmodels = [\"big\", \"huge\"]\n"
        "aliases = { smart = \"huge\" }\nretries = 2\nbackoff_ms = 1\nstall_timeout_ms = 300\n"
        "price = { input = 1.0, output = 2.0 }\n" +
        backend_extra;
    auto config = parse_config(text, [](const std::string& name) -> std::optional<std::string> {
      if (name == "FAKE_KEY") return "sk-fake-key-for-tests-000000";
      return std::nullopt;
    });
    EXPECT_TRUE(config.is_ok()) << config.status().message() << "\n" << text;
    if (!config) return nullptr;
    auto r = Router::create(std::move(config).value(), dir_.string());
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? *r : nullptr;
  }

  static RouteRequest chat(const std::string& model, const std::string& text, bool stream = false) {
    RouteRequest r;
    r.api = ApiKind::kOpenAIChat;
    r.body = {{"model", model}, {"stream", stream}, {"messages", {{{"role", "user"}, {"content", text}}}}};
    return r;
  }

  std::vector<AuditEntry> audit(const Router& r) { return std::move(r.audit().since(0)).value(); }

  static std::string drain(UpstreamResponse& resp, size_t* chunks = nullptr) {
    std::string all, piece;
    size_t n = 0;
    while (resp.next(&piece)) {
      all += piece;
      ++n;
    }
    if (chunks) *chunks = n;
    return all;
  }

  fs::path dir_;
  FakeUpstream fake_;
};

constexpr const char* kLocal = "[local]\nmodel = \"tiny\"\nfallback = \"cloud\"\n";

TEST_F(RouterTest, ExplicitModelsAliasesAndPrefixes) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  Decision d = r->decide(chat("big", "hi"));
  EXPECT_EQ(d.backend, "cloud");
  EXPECT_EQ(d.model, "big");
  EXPECT_EQ(d.rule, "model");
  EXPECT_EQ(d.header(), "backend=cloud; model=big; rule=model");
  ASSERT_TRUE(d.fallback);
  EXPECT_EQ(d.fallback->backend, "local");
  EXPECT_EQ(d.fallback->model, "tiny");

  d = r->decide(chat("smart", "hi"));
  EXPECT_EQ(d.backend, "cloud");
  EXPECT_EQ(d.model, "huge");
  EXPECT_EQ(d.rule, "alias");

  d = r->decide(chat("cloud/other-model", "hi"));
  EXPECT_EQ(d.backend, "cloud");
  EXPECT_EQ(d.model, "other-model");
  EXPECT_EQ(d.rule, "prefix");

  d = r->decide(chat("stories260K", "hi"));
  EXPECT_EQ(d.backend, "local");
  EXPECT_EQ(d.model, "stories260K");
  ASSERT_TRUE(d.fallback);
  EXPECT_EQ(d.fallback->backend, "cloud");
}

TEST_F(RouterTest, AutoRulesInOrder) {
  auto r = make(std::string(kLocal) + R"(
[[rules]]
name = "hinted"
hint = "deep-think"
backend = "cloud"
model = "huge"

[[rules]]
name = "long"
min_prompt_tokens = 50
backend = "cloud"

[[rules]]
name = "too-big-for-local"
exceeds_local_context = true
backend = "cloud"

[[rules]]
name = "vision"
needs = ["images"]
backend = "cloud"

[[rules]]
name = "tools"
needs = ["tools"]
backend = "cloud"

[[rules]]
name = "math"
keywords = ["Theorem"]
backend = "cloud"

[[rules]]
name = "tickets"
match = "(?i)ticket-\\d+"
backend = "cloud"
)");
  ASSERT_TRUE(r);
  Decision d = r->decide(chat("auto", "hello there"));
  EXPECT_EQ(d.backend, "local");
  EXPECT_EQ(d.model, "tiny");
  EXPECT_EQ(d.rule, "default");

  d = r->decide(chat("auto", std::string(400, 'x')));
  EXPECT_EQ(d.rule, "long");
  EXPECT_EQ(d.backend, "cloud");
  EXPECT_EQ(d.model, "big");
  EXPECT_NE(d.reason.find(">= 50"), std::string::npos) << d.reason;

  RouteRequest ctx = chat("auto", std::string(120, 'y'));  // ~30 tokens
  ctx.local_context = 16;
  d = r->decide(ctx);
  EXPECT_EQ(d.rule, "too-big-for-local");
  ctx.local_context = 4096;
  EXPECT_EQ(r->decide(ctx).rule, "default");

  RouteRequest img;
  img.api = ApiKind::kOllamaGenerate;
  img.body = {{"model", "auto"}, {"prompt", "what is this"}, {"images", {"iVBORw0KGgo="}}};
  EXPECT_EQ(r->decide(img).rule, "vision");

  // Tools: the local backend has the "tools" capability by default, so the rule stays quiet.
  RouteRequest tools = chat("auto", "call something");
  tools.body["tools"] = ojson::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
  EXPECT_EQ(r->decide(tools).rule, "default");

  EXPECT_EQ(r->decide(chat("auto", "prove this theorem")).rule, "math");
  EXPECT_EQ(r->decide(chat("auto", "see TICKET-42")).rule, "tickets");

  RouteRequest hinted = chat("auto", "hello");
  hinted.hint = "deep-think";
  d = r->decide(hinted);
  EXPECT_EQ(d.rule, "hinted");
  EXPECT_EQ(d.model, "huge");

  // A hint naming a backend wins over the rules; so does the body field.
  RouteRequest direct = chat("auto", std::string(400, 'x'));
  direct.hint = "local";
  EXPECT_EQ(r->decide(direct).rule, "hint");
  EXPECT_EQ(r->decide(direct).backend, "local");
  RouteRequest body_hint = chat("auto", "short");
  body_hint.body["sov_route"] = "cloud";
  EXPECT_EQ(r->decide(body_hint).backend, "cloud");
}

TEST_F(RouterTest, LocalToolsCapabilityCanBeRemoved) {
  auto r = make(
      "[local]\nmodel = \"tiny\"\ncapabilities = []\n[[rules]]\nname = \"tools\"\nneeds = "
      "[\"tools\"]\nbackend = \"cloud\"\n");
  ASSERT_TRUE(r);
  RouteRequest tools = chat("auto", "call something");
  tools.body["tools"] = ojson::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
  EXPECT_EQ(r->decide(tools).rule, "tools");
  EXPECT_EQ(r->decide(tools).backend, "cloud");
}

TEST_F(RouterTest, PrivateDataNeverGoesToABarredUpstream) {
  auto r = make(std::string(kLocal) + "[routing]\ndefault = \"cloud\"\n");
  ASSERT_TRUE(r);
  RouteRequest priv = chat("auto", "question about my notes");
  priv.private_data = true;
  Decision d = r->decide(priv);
  EXPECT_EQ(d.backend, "local");
  ASSERT_FALSE(d.skipped.empty());
  EXPECT_NE(d.skipped[0].find("allow_private = false"), std::string::npos);
  // Explicit: refused, and send() refuses too, without contacting the upstream.
  RouteRequest explicit_priv = chat("big", "question about my notes");
  explicit_priv.body["sov_private"] = true;
  d = r->decide(explicit_priv);
  EXPECT_EQ(d.refuse_status, 403);
  SendResult s = r->send(explicit_priv, Target{"cloud", "big"}, "model");
  EXPECT_EQ(s.status, 403);
  EXPECT_EQ(fake_.count(), 0u);
  EXPECT_TRUE(audit(*r).empty());
  // A request grounded in a knowledge base is private without any marker.
  RouteRequest grounded = chat("big", "question about my notes");
  grounded.body["knowledge"] = {{"base", "notes"}};
  EXPECT_EQ(r->decide(grounded).refuse_status, 403);
  EXPECT_EQ(r->send(grounded, Target{"cloud", "big"}, "model").status, 403);
  EXPECT_EQ(fake_.count(), 0u);
}

TEST_F(RouterTest, PrivateDataAllowedWhenTheBackendSaysSo) {
  auto r = make(kLocal, "allow_private = true\n");
  ASSERT_TRUE(r);
  RouteRequest priv = chat("big", "notes");
  priv.private_data = true;
  EXPECT_EQ(r->decide(priv).refuse_status, 0);
}

TEST_F(RouterTest, SendsAndAuditsAWholeAnswer) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  SendResult s = r->send(chat("big", "hello"), Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error;
  EXPECT_FALSE(s.response->streaming());
  auto body = ojson::parse(s.response->body());
  EXPECT_EQ(body["choices"][0]["message"]["content"], "echo: hello");
  ASSERT_EQ(fake_.count(), 1u);
  const auto rec = fake_.requests()[0];
  EXPECT_EQ(rec.path, "/v1/chat/completions");
  EXPECT_EQ(rec.authorization, "Bearer sk-fake-key-for-tests-000000");
  auto entries = audit(*r);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].backend, "cloud");
  EXPECT_EQ(entries[0].model, "big");
  EXPECT_EQ(entries[0].status, 200);
  EXPECT_EQ(entries[0].prompt_tokens, 11);
  EXPECT_EQ(entries[0].completion_tokens, 7);
  EXPECT_FALSE(entries[0].tokens_estimated);
  EXPECT_DOUBLE_EQ(entries[0].cost_usd, (11 * 1.0 + 7 * 2.0) / 1e6);
  EXPECT_NE(r->render_metrics().find("sov_upstream_requests_total{backend=\"cloud\"} 1"), std::string::npos);
}

TEST_F(RouterTest, RetriesFailuresThenSucceeds) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  fake_.script({FakeUpstream::Mode::kFail500, FakeUpstream::Mode::kRateLimit429});
  SendResult s = r->send(chat("big", "hello"), Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error;
  EXPECT_EQ(fake_.count(), 3u);
  auto entries = audit(*r);
  ASSERT_EQ(entries.size(), 3u);  // every attempt that left is recorded
  EXPECT_EQ(entries[0].status, 500);
  EXPECT_EQ(entries[1].status, 429);
  EXPECT_EQ(entries[2].status, 200);
  EXPECT_NE(entries[0].error.find("internal failure"), std::string::npos);
}

TEST_F(RouterTest, GivesUpAfterRetriesAndOffersFallback) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  fake_.script(
      {FakeUpstream::Mode::kFail500, FakeUpstream::Mode::kFail500, FakeUpstream::Mode::kRateLimit429});
  SendResult s = r->send(chat("big", "hello"), Target{"cloud", "big"}, "model");
  EXPECT_FALSE(s.response);
  EXPECT_TRUE(s.can_fall_back);
  EXPECT_EQ(s.status, 429);
  EXPECT_NE(s.error.find("after 3 attempt(s)"), std::string::npos) << s.error;
  EXPECT_EQ(fake_.count(), 3u);
  EXPECT_EQ(audit(*r).size(), 3u);
}

TEST_F(RouterTest, ClientErrorsAreNotRetried) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  fake_.script({FakeUpstream::Mode::kBadRequest400});
  SendResult s = r->send(chat("big", "hello"), Target{"cloud", "big"}, "model");
  EXPECT_EQ(s.status, 400);
  EXPECT_FALSE(s.can_fall_back);
  EXPECT_EQ(fake_.count(), 1u);
}

TEST_F(RouterTest, StallTimesOut) {
  auto r = make(kLocal, "");
  ASSERT_TRUE(r);
  fake_.script({FakeUpstream::Mode::kStall, FakeUpstream::Mode::kStall, FakeUpstream::Mode::kStall});
  SendResult s = r->send(chat("big", "hello"), Target{"cloud", "big"}, "model");
  EXPECT_FALSE(s.response);
  EXPECT_TRUE(s.can_fall_back);
  EXPECT_NE(s.error.find("stall timeout"), std::string::npos) << s.error;
  auto entries = audit(*r);
  ASSERT_EQ(entries.size(), 3u);  // the request left each time, though no answer came
  EXPECT_EQ(entries[0].status, 0);
}

TEST_F(RouterTest, UnreachableUpstreamSendsNothingAndFallsBack) {
  // A loopback port with nothing listening: connection refused, nothing left the machine.
  std::string toml =
      std::string(kLocal) +
      "[[backends]]\nname = \"down\"\nbase_url = \"http://127.0.0.1:9/v1\"\nretries = 1\nbackoff_ms = 1\n";
  auto r = make(toml);
  ASSERT_TRUE(r);
  SendResult s = r->send(chat("down/x", "hello"), Target{"down", "x"}, "prefix");
  EXPECT_FALSE(s.response);
  EXPECT_TRUE(s.can_fall_back);
  EXPECT_EQ(s.status, 502);
  EXPECT_TRUE(audit(*r).empty());
}

TEST_F(RouterTest, RedactsWhatLeavesAndRestoresTheAnswer) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  const std::string secret =
      "My mail is jane.doe@corp.example, phone +44 20 7946 0958, key sk-abcdefghijklmnopqrstuvwxyz123456 and "
      "AKIAABCDEFGHIJKLMNOP, token ghp_abcdefghijklmnopqrstuvwxyz0123456789.";
  SendResult s = r->send(chat("big", secret), Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error;
  const std::string sent = fake_.requests().at(0).body;
  for (const char* value : {"jane.doe@corp.example", "7946 0958", "sk-abcdefghijklmnopqrstuvwxyz123456",
                            "AKIAABCDEFGHIJKLMNOP", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}) {
    EXPECT_EQ(sent.find(value), std::string::npos) << value << " left the machine: " << sent;
  }
  EXPECT_NE(sent.find("EMAIL_1"), std::string::npos);
  // The upstream echoed placeholders; the client gets the original values back.
  auto body = ojson::parse(s.response->body());
  EXPECT_EQ(body["choices"][0]["message"]["content"], "echo: " + secret);
  auto entries = audit(*r);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].redactions.at("email"), 1);
  EXPECT_EQ(entries[0].redactions.at("phone"), 1);
  EXPECT_EQ(entries[0].redactions.at("secret"), 3);
  // The audit database holds no value either.
  const std::string row = entries[0].to_json().dump();
  EXPECT_EQ(row.find("jane.doe"), std::string::npos);
}

TEST_F(RouterTest, RedactsStreamedRequestsAndRestoresAcrossChunks) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  const std::string secret =
      "write to bob@example.org and carol@example.net, key sk-zyxwvutsrqponmlkjihgfedcba98";
  SendResult s = r->send(chat("big", secret, /*stream=*/true), Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error;
  ASSERT_TRUE(s.response->streaming());
  EXPECT_EQ(s.response->content_type(), "text/event-stream");
  size_t chunks = 0;
  const std::string out = drain(*s.response, &chunks);
  EXPECT_GE(chunks, 1u);
  const std::string sent = fake_.requests().at(0).body;
  EXPECT_EQ(sent.find("bob@example.org"), std::string::npos);
  EXPECT_EQ(sent.find("sk-zyxwvutsrqponmlkjihgfedcba98"), std::string::npos);
  // Join the deltas.
  std::string text;
  bool done = false;
  size_t pos = 0;
  while ((pos = out.find("data: ", pos)) != std::string::npos) {
    const size_t end = out.find("\n\n", pos);
    const std::string data = out.substr(pos + 6, end - pos - 6);
    pos = end + 2;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    auto j = ojson::parse(data);
    EXPECT_FALSE(j.contains("usage")) << "usage was not asked for";
    for (const auto& c : j["choices"]) {
      if (c.contains("delta") && c["delta"].contains("content"))
        text += c["delta"]["content"].get<std::string>();
    }
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(text, "echo: " + secret);
  s.response.reset();
  auto entries = audit(*r);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].stream);
  EXPECT_EQ(entries[0].completion_tokens, 7);  // from the usage chunk we asked for
  EXPECT_EQ(entries[0].redactions.at("email"), 2);
  EXPECT_TRUE(entries[0].error.empty()) << entries[0].error;
}

TEST_F(RouterTest, OllamaStreamBecomesNdjson) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  RouteRequest req;
  req.api = ApiKind::kOllamaChat;
  req.body = {{"model", "big"}, {"messages", {{{"role", "user"}, {"content", "ping dave@example.com"}}}}};
  SendResult s = r->send(req, Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error << fake_.requests().at(0).body;
  EXPECT_EQ(s.response->content_type(), "application/x-ndjson");
  const std::string out = drain(*s.response);
  std::string text;
  ojson last;
  size_t start = 0;
  while (start < out.size()) {
    const size_t nl = out.find('\n', start);
    last = ojson::parse(out.substr(start, nl - start));
    text += last["message"]["content"].get<std::string>();
    start = nl + 1;
  }
  EXPECT_EQ(text, "echo: ping dave@example.com");
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["eval_count"], 7);
  EXPECT_EQ(fake_.requests().at(0).body.find("dave@example.com"), std::string::npos);
}

TEST_F(RouterTest, StreamingIsPassedOnChunkByChunk) {
  auto r = make(kLocal);
  ASSERT_TRUE(r);
  fake_.script({FakeUpstream::Mode::kGatedStream});
  SendResult s = r->send(chat("big", "hello", true), Target{"cloud", "big"}, "model");
  ASSERT_TRUE(s.response) << s.error;
  std::string first;
  ASSERT_TRUE(s.response->next(&first));
  // The upstream is holding back the rest until we release it: the first piece reached us
  // without waiting for the whole answer.
  EXPECT_NE(first.find("\"ech\""), std::string::npos) << first;
  fake_.release();
  const std::string rest = drain(*s.response);
  EXPECT_NE(rest.find("[DONE]"), std::string::npos);
  EXPECT_TRUE(fake_.gate_released());
}

TEST_F(RouterTest, OfflineModeRefusesNonLoopbackWithoutAnAttempt) {
  for (const char* url : {"http://192.0.2.1/v1", "https://10.255.255.1/v1", "https://api.example.com/v1",
                          "http://[2001:db8::1]:8080/v1"}) {
    std::string toml =
        std::string("offline = true\n") + kLocal +
        "[[backends]]\nname = \"far\"\nallow_http = true\nretries = 3\nconnect_timeout_ms = 60000\n"
        "base_url = \"" +
        url + "\"\n";
    auto r = make(toml);
    ASSERT_TRUE(r);
    // Auto never picks it; an explicit request is refused by policy.
    EXPECT_EQ(r->decide(chat("far/x", "hi")).refuse_status, 403) << url;
    SendResult s = r->send(chat("far/x", "hi"), Target{"far", "x"}, "prefix");
    EXPECT_FALSE(s.response);
    EXPECT_EQ(s.status, 403);
    EXPECT_NE(s.error.find("offline mode"), std::string::npos) << s.error;
    EXPECT_TRUE(audit(*r).empty());
  }
  // The loopback fake still works offline.
  auto r = make(std::string("offline = true\n") + kLocal);
  SendResult ok = r->send(chat("big", "hi"), Target{"cloud", "big"}, "model");
  EXPECT_TRUE(ok.response) << ok.error;
}

TEST_F(RouterTest, OfflineHttpClientRefusesBeforeConnecting) {
  for (const char* url :
       {"http://192.0.2.1/v1/chat/completions", "http://10.255.255.1/x", "http://example.com/"}) {
    HttpCall call;
    call.url = url;
    call.offline = true;
    call.connect_timeout_ms = 60000;  // an attempt would hang, not fail fast
    bool sent = true;
    auto s = HttpStream::open(call, &sent);
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
    EXPECT_NE(s.status().message().find("offline mode: refusing to connect"), std::string::npos);
    EXPECT_FALSE(sent);
  }
}

TEST_F(RouterTest, OfflineConnectTimeGuardBlocksSockets) {
  // Skip the early host check: the socket-level guard must still refuse the connection.
  HttpCall call;
  call.url = "http://10.255.255.1/v1/chat/completions";
  call.offline = true;
  call.skip_offline_precheck_for_test = true;
  call.connect_timeout_ms = 60000;
  bool sent = true;
  auto s = HttpStream::open(call, &sent);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.status().message().find("blocked a connection to 10.255.255.1"), std::string::npos)
      << s.status().message();
  EXPECT_FALSE(sent);
}

TEST_F(RouterTest, LoopbackChecks) {
  EXPECT_TRUE(is_loopback_ip("127.0.0.1"));
  EXPECT_TRUE(is_loopback_ip("127.8.9.10"));
  EXPECT_TRUE(is_loopback_ip("::1"));
  EXPECT_TRUE(is_loopback_ip("[::1]"));
  EXPECT_TRUE(is_loopback_ip("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("10.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_ip("localhost"));
  EXPECT_TRUE(check_loopback_url("http://localhost:11434/v1").is_ok());
  EXPECT_TRUE(check_loopback_url("http://[::1]:8080/").is_ok());
  EXPECT_FALSE(check_loopback_url("http://127.0.0.1.nip.io/").is_ok());
  EXPECT_FALSE(check_loopback_url("http://user@127.0.0.1/").is_ok());
  EXPECT_FALSE(check_loopback_url("file:///etc/passwd").is_ok());
}

}  // namespace
}  // namespace sov::router
