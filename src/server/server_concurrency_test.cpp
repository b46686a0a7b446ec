// Concurrency through HTTP: simultaneous streaming clients, batching equivalence, aborted
// streams freeing their slot, and the bounded queue.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "base/testdata.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

using nlohmann::json;
using test::TestServer;

const std::vector<std::string> kPrompts = {
    "Once upon a time",     "The little dog",  "Tom and Sue went to the park", "One day, a big bird",
    "Lily had a red ball.", "There was a cat", "The sun was hot and the kids", "Mom said"};

json greedy_request(const std::string& prompt, int n) {
  return json{{"model", "stories260K"},
              {"prompt", prompt},
              {"options", {{"temperature", 0}, {"repeat_penalty", 1}, {"num_predict", n}}}};
}

// Streams one /api/generate request and returns the concatenated text ("" on failure).
std::string stream_generate(const TestServer& s, const std::string& prompt, int n, bool* ok) {
  auto c = s.client();
  auto res = c.Post("/api/generate", greedy_request(prompt, n).dump(), "application/json");
  *ok = res && res->status == 200;
  if (!*ok) return "";
  std::string text;
  auto lines = test::ndjson(res->body);
  *ok = !lines.empty() && lines.back()["done"] == true;
  for (const auto& l : lines) text += l.value("response", "");
  return text;
}

uint64_t metric(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re(std::regex_replace(name, std::regex(R"([{}"\[\]])"), R"(\$&)") + R"( (\d+))");
  return std::regex_search(body, m, re) ? std::stoull(m[1]) : 0;
}

TEST(Concurrency, EightStreamingClientsMatchSequentialResults) {
  SOV_REQUIRE_TESTDATA(dir);
  std::vector<std::string> sequential;
  {
    TestServer one(dir, [](ServerConfig& c) { c.num_parallel = 1; });
    for (const auto& p : kPrompts) {
      bool ok = false;
      sequential.push_back(stream_generate(one, p, 32, &ok));
      ASSERT_TRUE(ok);
    }
  }
  TestServer s(dir, [](ServerConfig& c) {
    c.num_parallel = 4;
    c.n_batch = 16;  // prompts are split into chunks that interleave with generation
  });
  std::vector<std::string> texts(kPrompts.size());
  std::vector<int> oks(kPrompts.size(), 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    threads.emplace_back([&, i] {
      bool ok = false;
      texts[i] = stream_generate(s, kPrompts[i], 32, &ok);
      oks[i] = ok;
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    EXPECT_TRUE(oks[i]) << kPrompts[i];
    EXPECT_FALSE(texts[i].empty());
    EXPECT_EQ(texts[i], sequential[i]) << kPrompts[i];
  }
  // The access log (and its metrics) is written just after the last byte of each response.
  uint64_t answered = 0;
  for (int i = 0; i < 100 && answered < kPrompts.size(); ++i) {
    answered = metric(s.client().Get("/metrics")->body,
                      R"(sov_http_requests_total{route="/api/generate",status="200"})");
    if (answered < kPrompts.size()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(answered, kPrompts.size());
}

// Streams a long OpenAI chat completion (EOS banned) and hangs up after the first content.
void abort_after_first_chunk(const TestServer& s) {
  auto c = s.client();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = json{{"model", "TinyLLama-v0.Q4_0"},
                  {"messages", {{{"role", "user"}, {"content", "Tell me a long story."}}}},
                  {"stream", true},
                  {"logit_bias", {{"2", -100}}}}
                 .dump();
  std::string got;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    got.append(data, n);
    size_t events = 0;
    for (size_t at = got.find("data: "); at != std::string::npos; at = got.find("data: ", at + 1)) ++events;
    return events < 3;  // the role chunk and two content chunks
  };
  httplib::Response res;
  httplib::Error err;
  c.send(req, res, err);
  EXPECT_NE(got.find("chat.completion.chunk"), std::string::npos);
}

TEST(Concurrency, AbortedStreamFreesItsSlot) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) { c.num_parallel = 1; });
  abort_after_first_chunk(s);
  // With one slot, this only runs once the aborted generation has let go of it.
  auto c = s.client();
  auto res = c.Post("/api/generate",
                    json{{"model", "TinyLLama-v0.Q4_0"},
                         {"prompt", "Hello"},
                         {"stream", false},
                         {"options", {{"num_predict", 4}}}}
                        .dump(),
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  auto metrics = c.Get("/metrics")->body;
  EXPECT_EQ(metric(metrics, R"(sov_generations_total{model="TinyLLama-v0.Q4_0:latest",reason="cancelled"})"),
            1u)
      << metrics;
  // It stopped long before the 2048-token context was full.
  EXPECT_LT(metric(metrics, R"(sov_generated_tokens_total{model="TinyLLama-v0.Q4_0:latest"})"), 1500u);
  EXPECT_EQ(metric(metrics, R"(sov_active_sequences{model="TinyLLama-v0.Q4_0:latest"})"), 0u);
}

TEST(Concurrency, ClientLeavingANonStreamingRequestCancelsIt) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) { c.num_parallel = 1; });
  {
    auto c = s.client();
    c.set_read_timeout(0, 300000);  // gives up (and closes the connection) after 0.3 s
    auto res = c.Post("/v1/completions",
                      json{{"model", "TinyLLama-v0.Q4_0"},
                           {"prompt", "Once"},
                           {"max_tokens", 2000},
                           {"logit_bias", {{"2", -100}}}}
                          .dump(),
                      "application/json");
    EXPECT_FALSE(res);
  }
  // Nothing is written during a non-streaming generation: only the connection watch can see
  // that the client left.
  const std::string label = R"(sov_generations_total{model="TinyLLama-v0.Q4_0:latest",reason="cancelled"})";
  uint64_t cancelled = 0;
  for (int i = 0; i < 200 && cancelled == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancelled = metric(s.client().Get("/metrics")->body, label);
  }
  EXPECT_EQ(cancelled, 1u);
}

TEST(Concurrency, FullQueueAnswers503) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) {
    c.num_parallel = 1;
    c.max_queue = 1;
  });
  // Load first so that every request meets the scheduler, not the loader.
  s.client().Post("/api/generate", R"({"model": "TinyLLama-v0.Q4_0"})", "application/json");
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      auto c = s.client();
      auto res = c.Post("/v1/completions",
                        json{{"model", "TinyLLama-v0.Q4_0"},
                             {"prompt", "Once"},
                             {"max_tokens", 400},
                             {"logit_bias", {{"2", -100}}}}
                            .dump(),
                        "application/json");
      if (res && res->status == 200) {
        ++ok;
      } else if (res && res->status == 503) {
        json body = json::parse(res->body, nullptr, false);
        if (body.is_object() && body["error"]["code"] == "overloaded") ++busy;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  // The running request, and the queued one unless it arrived before the scheduler had
  // moved the first from the queue into the slot (likely on a loaded machine).
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(ok.load() + busy.load(), 12);
}

}  // namespace
}  // namespace sov::server
