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

}  // namespace
}  // namespace sov::server
