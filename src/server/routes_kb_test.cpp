// /api/kb over real HTTP: create, list, raw text and folder documents (in the request and in
// the background), status with the job's summary, keyword and vector queries, errors,
// hostile names, delete.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/testdata.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

using nlohmann::json;

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class KbRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = sov::test::testdata_dir();
    if (!data) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    data_ = *data;
    tmp_ = std::filesystem::temp_directory_path() / ("sov_kb_routes_" + std::to_string(::getpid()));
    std::filesystem::remove_all(tmp_);
    std::filesystem::create_directories(tmp_);
    server_ = std::make_unique<test::TestServer>(
        data_, [&](ServerConfig& c) { c.kb_root = (tmp_ / "kb").string(); });
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(tmp_);
  }
  json post(const std::string& path, const json& body, int* status = nullptr) {
    auto r = server_->client().Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return json();
    if (status) *status = r->status;
    return json::parse(r->body, nullptr, false);
  }
  json get(const std::string& path, int* status = nullptr) {
    auto r = server_->client().Get(path.c_str());
    EXPECT_TRUE(r);
    if (!r) return json();
    if (status) *status = r->status;
    return json::parse(r->body, nullptr, false);
  }

  std::string data_;
  std::filesystem::path tmp_;
  std::unique_ptr<test::TestServer> server_;
};

TEST_F(KbRoutes, LifecycleAndKeywordQueries) {
  int status = 0;
  EXPECT_EQ(get("/api/kb")["knowledge_bases"].size(), 0u);
  json created = post("/api/kb", {{"name", "notes"}}, &status);
  EXPECT_EQ(status, 200) << created.dump();
  EXPECT_EQ(created["documents"], 0);
  post("/api/kb", {{"name", "notes"}}, &status);
  EXPECT_EQ(status, 409);
  for (const char* bad : {"..", "../x", "a/b", ".hidden", ""}) {
    post("/api/kb", {{"name", bad}}, &status);
    EXPECT_EQ(status, 400) << bad;
  }
  post("/api/kb", {{"name", 5}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "x"));

  // Raw text documents are indexed in the request.
  json added =
      post("/api/kb/notes/documents",
           {{"documents", {{{"name", "memo"}, {"text", "Renew the library card before March."}}}}}, &status);
  EXPECT_EQ(status, 200) << added.dump();
  EXPECT_EQ(added["summary"]["added"], 1);
  json r = post("/api/kb/notes/query", {{"query", "library card"}}, &status);
  ASSERT_EQ(status, 200) << r.dump();
  ASSERT_EQ(r["results"].size(), 1u);
  EXPECT_EQ(r["results"][0]["path"], "text:memo");
  EXPECT_EQ(r["results"][0]["lines"], json::array({1, 1}));

  // A folder, in the request.
  write_file(tmp_ / "files/a.md", "# Birds\n\nThe kingfisher dives for fish.\n");
  write_file(tmp_ / "files/b.txt", "Herons wait patiently.\n");
  write_file(tmp_ / "files/c.bin", std::string("\0\1\2\3", 4));
  json now =
      post("/api/kb/notes/documents", {{"paths", {(tmp_ / "files").string()}}, {"wait", true}}, &status);
  ASSERT_EQ(status, 200) << now.dump();
  EXPECT_EQ(now["summary"]["added"], 2);
  ASSERT_EQ(now["summary"]["skipped"].size(), 1u);
  EXPECT_NE(now["summary"]["skipped"][0]["reason"].get<std::string>().find("binary"), std::string::npos);

  // And in the background: 202, then the job's summary in the status.
  write_file(tmp_ / "files/d.md", "Owls hunt at night.\n");
  post("/api/kb/notes/documents", {{"paths", {(tmp_ / "files").string()}}}, &status);
  EXPECT_EQ(status, 202);
  json st;
  for (int i = 0; i < 600; ++i) {  // the job ends on its own; this only bounds a hang
    st = get("/api/kb/notes");
    if (st["job"].is_object() && st["job"]["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(st["job"]["state"], "done") << st.dump();
  EXPECT_EQ(st["job"]["summary"]["added"], 1);
  EXPECT_EQ(st["documents"], 4);
  r = post("/api/kb/notes/query", {{"query", "owls"}, {"k", 3}}, &status);
  ASSERT_EQ(r["results"].size(), 1u);
  r = post("/api/kb/notes/query", {{"query", "the"}, {"path", "*.md"}}, &status);
  for (const auto& h : r["results"]) EXPECT_TRUE(h["path"].get<std::string>().ends_with(".md"));

  // Hostile and malformed queries.
  post("/api/kb/notes/query", {{"query", "\"*) OR NEAR( AND"}}, &status);
  EXPECT_EQ(status, 200);
  post("/api/kb/notes/query", {{"query", 3}}, &status);
  EXPECT_EQ(status, 400);
  post("/api/kb/notes/query", {{"query", "x"}, {"k", 0}}, &status);
  EXPECT_EQ(status, 400);
  post("/api/kb/notes/query", {{"query", "x"}, {"mode", "vector"}}, &status);
  EXPECT_EQ(status, 400);  // no embedding model
  post("/api/kb/missing/query", {{"query", "x"}}, &status);
  EXPECT_EQ(status, 404);
  post("/api/kb/..%2F..%2Fetc/query", {{"query", "x"}}, &status);
  EXPECT_NE(status, 200);

  EXPECT_EQ(get("/api/kb")["knowledge_bases"].size(), 1u);
  auto del = server_->client().Delete("/api/kb/notes");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  del = server_->client().Delete("/api/kb/notes");
  EXPECT_EQ(del->status, 404);
  EXPECT_EQ(get("/api/kb")["knowledge_bases"].size(), 0u);
}

TEST_F(KbRoutes, VectorQueriesWithAnEmbeddingModel) {
  int status = 0;
  const std::string model = data_ + "/models/synth-bert-F32.gguf";
  json created = post("/api/kb", {{"name", "sem"}, {"embed_model", model}}, &status);
  ASSERT_EQ(status, 200) << created.dump();
  EXPECT_EQ(created["embed_dim"], 128);
  post("/api/kb/sem/documents",
       {{"documents",
         {{{"name", "one"}, {"text", "Alpine lakes freeze in winter."}},
          {{"name", "two"}, {"text", "Desert sand dunes move."}}}}},
       &status);
  ASSERT_EQ(status, 200);
  json r = post("/api/kb/sem/query", {{"query", "Desert sand dunes move."}, {"mode", "vector"}}, &status);
  ASSERT_EQ(status, 200) << r.dump();
  ASSERT_FALSE(r["results"].empty());
  EXPECT_EQ(r["results"][0]["path"], "text:two");
  EXPECT_NEAR(r["results"][0]["score"].get<double>(), 1.0, 1e-3);
  json st = get("/api/kb/sem");
  EXPECT_EQ(st["chunks_embedded"], st["chunks"]);
  post("/api/kb", {{"name", "bad"}, {"embed_model", data_ + "/models/does-not-exist.gguf"}}, &status);
  EXPECT_EQ(status, 400);
}

// A model the server serves by name is leased from the model manager like any /api/embed
// request: it is listed by /api/ps, and bases and /api/embed give the same vectors.
TEST_F(KbRoutes, NamedEmbeddingModelGoesThroughTheModelManager) {
  std::filesystem::create_symlink(data_ + "/models/synth-bert-F32.gguf",
                                  server_->models_dir() / "bert-mini.gguf");
  int status = 0;
  json created = post("/api/kb", {{"name", "named"}, {"embed_model", "bert-mini"}}, &status);
  ASSERT_EQ(status, 200) << created.dump();
  EXPECT_EQ(created["embed_dim"], 128);
  json ps = get("/api/ps");
  ASSERT_EQ(ps["models"].size(), 1u) << ps.dump();
  EXPECT_EQ(ps["models"][0]["name"], "bert-mini:latest");

  const std::string text = "Glaciers carve valleys over many thousands of years.";
  post("/api/kb/named/documents", {{"documents", {{{"name", "ice"}, {"text", text}}}}}, &status);
  ASSERT_EQ(status, 200);
  json r = post("/api/kb/named/query", {{"query", text}, {"mode", "vector"}}, &status);
  ASSERT_EQ(status, 200) << r.dump();
  ASSERT_EQ(r["results"].size(), 1u);
  EXPECT_NEAR(r["results"][0]["score"].get<double>(), 1.0, 1e-3);

  json bad = post("/api/kb", {{"name", "unknown"}, {"embed_model", "no-such-model"}}, &status);
  EXPECT_EQ(status, 400);
  EXPECT_NE(bad["error"].get<std::string>().find("no-such-model"), std::string::npos) << bad.dump();
}

// The "knowledge" extension of the chat routes: a base over fixture files on disk.
class KbChat : public KbRoutes {
 protected:
  void SetUp() override {
    KbRoutes::SetUp();
    if (IsSkipped()) return;
    write_file(tmp_ / "docs" / "otters.md",
               "# Otters\n\nSea otters migrate north every April to the kelp forests.\n");
    write_file(tmp_ / "docs" / "bread.txt", "Sourdough bread needs a starter fed with flour and water.\n");
    int status = 0;
    post("/api/kb", {{"name", "docs"}}, &status);
    ASSERT_EQ(status, 200);
    json added =
        post("/api/kb/docs/documents", {{"paths", {(tmp_ / "docs").string()}}, {"wait", true}}, &status);
    ASSERT_EQ(status, 200) << added.dump();
    ASSERT_EQ(added["summary"]["added"], 2);
  }
  static json messages() {
    return json::array({{{"role", "user"}, {"content", "When do sea otters migrate?"}}});
  }
  // A short greedy chat request, with or without knowledge.
  json chat_body(bool stream, const json& knowledge) const {
    json b = {{"model", "stories260K"},
              {"messages", messages()},
              {"stream", stream},
              {"options", {{"num_predict", 3}, {"temperature", 0}}}};
    if (!knowledge.is_null()) b["knowledge"] = knowledge;
    return b;
  }
  json openai_body(bool stream, const json& knowledge) const {
    json b = {{"model", "stories260K"},
              {"messages", messages()},
              {"stream", stream},
              {"max_tokens", 3},
              {"temperature", 0}};
    if (stream) b["stream_options"] = {{"include_usage", true}};
    if (!knowledge.is_null()) b["knowledge"] = knowledge;
    return b;
  }
  std::string raw_post(const std::string& path, const json& body, int* status) {
    auto r = server_->client().Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return "";
    *status = r->status;
    return r->body;
  }
  static void expect_otter_source(const json& sources) {
    ASSERT_TRUE(sources.is_array()) << sources.dump();
    ASSERT_EQ(sources.size(), 1u) << sources.dump();  // k = 1
    EXPECT_EQ(sources[0]["index"], 1);
    EXPECT_TRUE(sources[0]["path"].get<std::string>().ends_with("docs/otters.md")) << sources.dump();
    EXPECT_EQ(sources[0]["lines"], json::array({1, 3}));
    EXPECT_GT(sources[0]["score"].get<double>(), 0.0);
  }
  // The source text (about 60 bytes, several tokens per word with stories260K's tiny vocabulary)
  // plus the instructions must reach the prompt.
  static constexpr int kMinGrowth = 40;
};

TEST_F(KbChat, OllamaChatIsGroundedAndReturnsSources) {
  const json knowledge = {{"base", "docs"}, {"k", 1}, {"mode", "keyword"}};
  int status = 0;
  json plain = post("/api/chat", chat_body(false, nullptr), &status);
  ASSERT_EQ(status, 200) << plain.dump();
  EXPECT_FALSE(plain.contains("sources"));
  json grounded = post("/api/chat", chat_body(false, knowledge), &status);
  ASSERT_EQ(status, 200) << grounded.dump();
  expect_otter_source(grounded["sources"]);
  EXPECT_GT(grounded["prompt_eval_count"].get<int>(), plain["prompt_eval_count"].get<int>() + kMinGrowth);

  // A budget too small for the instructions and the source cuts the context short.
  json tight = knowledge;
  tight["budget"] = 8;
  json small = post("/api/chat", chat_body(false, tight), &status);
  ASSERT_EQ(status, 200) << small.dump();
  EXPECT_LT(small["prompt_eval_count"].get<int>(), grounded["prompt_eval_count"].get<int>());

  // Streamed: the sources come on the final chunk only.
  std::string body = raw_post("/api/chat", chat_body(true, knowledge), &status);
  ASSERT_EQ(status, 200) << body;
  auto lines = test::ndjson(body);
  ASSERT_GE(lines.size(), 2u);
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_FALSE(lines[i].contains("sources"));
  EXPECT_EQ(lines.back()["done"], true);
  expect_otter_source(lines.back()["sources"]);
  EXPECT_EQ(lines.back()["prompt_eval_count"], grounded["prompt_eval_count"]);
}

TEST_F(KbChat, OpenAIChatIsGroundedAndReturnsSources) {
  const json knowledge = {{"base", "docs"}, {"k", 1}};  // default mode: keyword (no embedding model)
  int status = 0;
  json plain = post("/v1/chat/completions", openai_body(false, nullptr), &status);
  ASSERT_EQ(status, 200) << plain.dump();
  EXPECT_FALSE(plain.contains("sources"));
  json grounded = post("/v1/chat/completions", openai_body(false, knowledge), &status);
  ASSERT_EQ(status, 200) << grounded.dump();
  expect_otter_source(grounded["sources"]);
  const int prompt_tokens = grounded["usage"]["prompt_tokens"].get<int>();
  EXPECT_GT(prompt_tokens, plain["usage"]["prompt_tokens"].get<int>() + kMinGrowth);

  std::string body = raw_post("/v1/chat/completions", openai_body(true, knowledge), &status);
  ASSERT_EQ(status, 200) << body;
  bool done = false;
  auto events = test::sse_events(body, &done);
  EXPECT_TRUE(done);
  ASSERT_GE(events.size(), 2u);
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(events[i].contains("sources"));
  expect_otter_source(events.back()["sources"]);
  EXPECT_EQ(events.back()["usage"]["prompt_tokens"], prompt_tokens);

  // The system message of the request is kept, the sources appended to it.
  json with_system = openai_body(false, knowledge);
  with_system["messages"].insert(with_system["messages"].begin(),
                                 json{{"role", "system"}, {"content", "Be brief."}});
  json both = post("/v1/chat/completions", with_system, &status);
  ASSERT_EQ(status, 200) << both.dump();
  expect_otter_source(both["sources"]);
  EXPECT_GT(both["usage"]["prompt_tokens"].get<int>(), prompt_tokens);
}

TEST_F(KbChat, BadKnowledgeIsRejected) {
  int status = 0;
  for (const char* path : {"/api/chat", "/v1/chat/completions"}) {
    const bool ollama = std::string(path) == "/api/chat";
    auto body = [&](const json& k) { return ollama ? chat_body(false, k) : openai_body(false, k); };
    json r = post(path, body({{"base", "nope"}}), &status);
    EXPECT_EQ(status, 404) << path << " " << r.dump();
    for (const json& bad : {json("docs"), json{{"k", 2}}, json{{"base", "docs"}, {"k", 0}},
                            json{{"base", "docs"}, {"mode", "fuzzy"}}, json{{"base", "docs"}, {"top", 3}},
                            json{{"base", "../docs"}}, json{{"base", 7}}}) {
      r = post(path, body(bad), &status);
      EXPECT_EQ(status, 400) << path << " " << bad.dump() << " " << r.dump();
    }
  }
}

}  // namespace
}  // namespace sov::server
