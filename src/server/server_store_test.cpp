// The model store through the HTTP server: /api/pull from a loopback test registry (NDJSON
// progress), /api/blobs upload, /api/create, /api/show of store models, /api/copy,
// /api/delete with garbage collection, Modelfile settings applied to requests, hostile
// names and digests, concurrent pulls, delete while a model is generating, and a pulled
// model generating exactly what its file does.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "base/testdata.h"
#include "server/server_test_util.h"
#include "server/store_resolver.h"
#include "store/digest.h"
#include "store/test_registry.h"

namespace sov::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::testing::TestRegistry;
using test::TestServer;

const char* kJson = "application/json";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json post(httplib::Client& c, const std::string& path, const json& body, int* status = nullptr) {
  auto res = c.Post(path, body.dump(), kJson);
  EXPECT_TRUE(res) << path;
  if (!res) return json();
  if (status) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

void expect_error(const httplib::Result& res, int status, const std::string& fragment = "") {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, status) << res->body;
  json body = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body["error"].is_string()) << res->body;
  if (!fragment.empty()) {
    EXPECT_NE(body["error"].get<std::string>().find(fragment), std::string::npos) << res->body;
  }
}

json greedy(int n) {
  return json{{"temperature", 0}, {"repeat_penalty", 1}, {"num_predict", n}};
}

std::string generate(httplib::Client& c, const std::string& model, const std::string& prompt,
                     const json& options, json* out = nullptr) {
  int status = 0;
  json r = post(c, "/api/generate",
                {{"model", model}, {"prompt", prompt}, {"stream", false}, {"options", options}}, &status);
  EXPECT_EQ(status, 200) << r.dump();
  if (out) *out = r;
  return r.value("response", "");
}

// Every file below `dir` (relative path and size): to prove a refused request touched nothing.
std::set<std::string> snapshot(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::error_code ec;
    out.insert(e.path().lexically_relative(dir).string() + ":" +
               (e.is_regular_file(ec) ? std::to_string(e.file_size(ec)) : "dir"));
  }
  return out;
}

size_t count_blobs(const fs::path& root) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "blobs", ec))
    n += e.path().filename().string().rfind("sha256-", 0) == 0;
  return n;
}

class StoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = sov::test::testdata_dir();
    if (!data) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    data_ = *data;
    stories_ = read_bytes(data_ + "/models/stories260K.gguf");
    ASSERT_FALSE(stories_.empty());
    ASSERT_TRUE(registry_.start());
    server_ = std::make_unique<TestServer>(data_, [](ServerConfig& c) { c.max_body_bytes = 64 * 1024; });
  }
  // "127.0.0.1:<port>/library/<model>:<tag>", pulled with "insecure": the registry is plain http.
  std::string remote(const std::string& model_tag) const {
    return "127.0.0.1:" + std::to_string(registry_.port()) + "/library/" + model_tag;
  }
  fs::path root() const { return server_->models_dir(); }

  std::string data_;
  std::string stories_;
  TestRegistry registry_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(StoreServerTest, PullStreamsOllamaProgressAndTheModelIsServed) {
  auto manifest = registry_.add_model("library", "stories", "latest", stories_, "", "You tell stories.",
                                      {{"temperature", 0.5}, {"stop", {"</s>"}}});
  auto c = server_->client();
  auto res = c.Post("/api/pull", json{{"model", remote("stories")}, {"insecure", true}}.dump(), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");
  auto lines = test::ndjson(res->body);
  ASSERT_GE(lines.size(), 3u) << res->body;
  EXPECT_EQ(lines.front()["status"], "pulling manifest");
  EXPECT_EQ(lines.back(), json({{"status", "success"}}));
  bool layer_done = false;
  const std::string model_digest = manifest.layers[0].digest.str();
  for (const auto& l : lines) {
    ASSERT_TRUE(l["status"].is_string()) << l.dump();
    if (l.value("digest", "") == model_digest && l["completed"] == l["total"] &&
        l["total"] == static_cast<uint64_t>(stories_.size()))
      layer_done = true;
  }
  EXPECT_TRUE(layer_done) << res->body;

  // Listed, shown with the manifest's settings, and the blob is the file.
  json tags = json::parse(c.Get("/api/tags")->body);
  bool listed = false;
  for (const auto& m : tags["models"]) listed = listed || m["name"] == remote("stories:latest");
  EXPECT_TRUE(listed) << tags.dump();
  int status = 0;
  json show = post(c, "/api/show", {{"model", remote("stories")}}, &status);
  ASSERT_EQ(status, 200) << show.dump();
  EXPECT_EQ(show["system"], "You tell stories.");
  EXPECT_NE(show["parameters"].get<std::string>().find("temperature"), std::string::npos) << show.dump();
  EXPECT_NE(show["modelfile"].get<std::string>().find("You tell stories."), std::string::npos);
  EXPECT_NE(show["modelfile"].get<std::string>().find("\nSYSTEM "), std::string::npos);
  EXPECT_NE(show["modelfile"].get<std::string>().find("PARAMETER stop \"</s>\""), std::string::npos);
  EXPECT_EQ(show["details"]["family"], "llama");
  EXPECT_EQ(show["model_info"]["general.architecture"], "llama");
  EXPECT_EQ(read_bytes((root() / "blobs" / manifest.layers[0].digest.file_name()).string()), stories_);
}

TEST_F(StoreServerTest, PullWithoutStreamingAndItsErrors) {
  registry_.add_model("library", "stories", "v2", stories_);
  auto c = server_->client();
  int status = 0;
  json r =
      post(c, "/api/pull", {{"name", remote("stories:v2")}, {"insecure", true}, {"stream", false}}, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(r, json({{"status", "success"}}));
  // Unknown model: 404 without streaming, an error line with it; nothing stored.
  auto before = snapshot(root());
  expect_error(c.Post("/api/pull",
                      json{{"model", remote("nosuch")}, {"insecure", true}, {"stream", false}}.dump(), kJson),
               404);
  auto res = c.Post("/api/pull", json{{"model", remote("nosuch")}, {"insecure", true}}.dump(), kJson);
  ASSERT_TRUE(res);
  auto lines = test::ndjson(res->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back()["error"].is_string()) << res->body;
  // Wrong field types and a missing name.
  expect_error(c.Post("/api/pull", R"({"model": "x", "insecure": "yes"})", kJson), 400, "insecure");
  expect_error(c.Post("/api/pull", R"({})", kJson), 400, "model");
  EXPECT_EQ(snapshot(root()), before);
  // Push is not offered.
  expect_error(c.Post("/api/push", R"({"model": "x"})", kJson), 501, "not supported");
}

TEST_F(StoreServerTest, UploadBlobThenCreateAndTheModelfileSettingsApply) {
  auto c = server_->client();
  const store::Digest digest = store::sha256_of(stories_);
  const std::string blob_path = "/api/blobs/" + digest.str();
  auto head = c.Head(blob_path);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  // The model file is far larger than the JSON body limit (64 KiB here).
  auto up = c.Post(blob_path, stories_, "application/octet-stream");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 201) << up->body;
  head = c.Head(blob_path);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);

  // Parameters, a Go template and a system prompt from /api/create.
  auto res = c.Post("/api/create",
                    json{{"model", "teller:v1"},
                         {"files", {{"stories260K.gguf", digest.str()}}},
                         {"template", "{{ .System }}|{{ .Prompt }}{{ .Response }}</s>"},
                         {"system", "Once"},
                         {"parameters", {{"temperature", 0}, {"repeat_penalty", 1}, {"num_predict", 5}}},
                         {"license", "MIT"}}
                        .dump(),
                    kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  auto lines = test::ndjson(res->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), json({{"status", "success"}})) << res->body;

  int status = 0;
  json show = post(c, "/api/show", {{"model", "teller:v1"}}, &status);
  ASSERT_EQ(status, 200) << show.dump();
  EXPECT_EQ(show["system"], "Once");
  EXPECT_EQ(show["license"], "MIT");
  EXPECT_EQ(show["template"], "{{ .System }}|{{ .Prompt }}{{ .Response }}</s>");
  EXPECT_NE(show["parameters"].get<std::string>().find("num_predict"), std::string::npos);

  // num_predict 5 from the model, the request's own options win.
  json r;
  const std::string by_model = generate(c, "teller:v1", " upon a time", json::object(), &r);
  EXPECT_EQ(r["eval_count"], 5) << r.dump();
  generate(c, "teller:v1", " upon a time", {{"num_predict", 7}}, &r);
  EXPECT_EQ(r["eval_count"], 7) << r.dump();
  // The template and system prompt shape the prompt exactly like the same raw text.
  json raw_r = post(c, "/api/generate",
                    {{"model", "stories260K"},
                     {"prompt", "Once| upon a time"},
                     {"raw", true},
                     {"stream", false},
                     {"options", greedy(5)}});
  EXPECT_EQ(by_model, raw_r["response"]);
  EXPECT_EQ(r["prompt_eval_count"], raw_r["prompt_eval_count"]);
  // Chat renders the conversation with the same Go template.
  json chat = post(c, "/api/chat",
                   {{"model", "teller:v1"},
                    {"messages", {{{"role", "user"}, {"content", " upon a time"}}}},
                    {"stream", false}});
  EXPECT_EQ(chat["message"]["content"], by_model) << chat.dump();
  // OpenAI requests get the model's parameters as defaults too.
  json oa = post(c, "/v1/completions", {{"model", "teller:v1"}, {"prompt", " upon a time"}});
  EXPECT_EQ(oa["usage"]["completion_tokens"], 5) << oa.dump();
  EXPECT_EQ(oa["choices"][0]["text"], by_model);

  // The legacy "modelfile" field, FROM the uploaded blob.
  status = 0;
  json legacy = post(c, "/api/create",
                     {{"model", "legacy"},
                      {"modelfile", "FROM @" + digest.str() + "\nPARAMETER num_predict 3\n"},
                      {"stream", false}},
                     &status);
  EXPECT_EQ(status, 200) << legacy.dump();
  generate(c, "legacy", "Once upon a time", json{{"temperature", 0}}, &r);
  EXPECT_EQ(r["eval_count"], 3) << r.dump();
  // FROM a loose GGUF file of the models folder, by its name.
  json loose =
      post(c, "/api/create", {{"model", "from-loose"}, {"from", "stories260K"}, {"stream", false}}, &status);
  EXPECT_EQ(status, 200) << loose.dump();
  EXPECT_EQ(generate(c, "from-loose", "Once upon a time", greedy(8)),
            generate(c, "stories260K", "Once upon a time", greedy(8)));
  // FROM another model: inherits, overrides.
  json child =
      post(c, "/api/create",
           {{"model", "child"}, {"from", "teller:v1"}, {"system", "Twice"}, {"stream", false}}, &status);
  EXPECT_EQ(status, 200) << child.dump();
  show = post(c, "/api/show", {{"model", "child"}});
  EXPECT_EQ(show["system"], "Twice");
  EXPECT_NE(show["parameters"].get<std::string>().find("num_predict"), std::string::npos);
}

TEST_F(StoreServerTest, BlobUploadWithTheWrongDigestLeavesNothing) {
  auto c = server_->client();
  // Make the blobs folder exist, then snapshot it.
  ASSERT_EQ(c.Post("/api/blobs/" + store::sha256_of("x").str(), "x", "application/octet-stream")->status,
            201);
  auto before = snapshot(root());
  const std::string wrong = "/api/blobs/" + store::sha256_of("something else").str();
  expect_error(c.Post(wrong, stories_, "application/octet-stream"), 400, "mismatch");
  EXPECT_EQ(snapshot(root()), before);
  EXPECT_EQ(c.Head(wrong)->status, 404);
}

TEST_F(StoreServerTest, CreateRefusals) {
  auto c = server_->client();
  ASSERT_EQ(c.Post("/api/blobs/" + store::sha256_of("x").str(), "x", "application/octet-stream")->status,
            201);
  auto before = snapshot(root());
  const std::string missing = store::sha256_of("not uploaded").str();
  expect_error(
      c.Post("/api/create", json{{"model", "m"}, {"files", {{"m.gguf", missing}}}, {"stream", false}}.dump(),
             kJson),
      404, "upload");
  expect_error(c.Post("/api/create", json{{"model", "m"}, {"stream", false}}.dump(), kJson), 400, "from");
  // Network clients never name a path on the server.
  const std::string file = data_ + "/models/stories260K.gguf";
  expect_error(c.Post("/api/create", json{{"model", "m"}, {"from", file}, {"stream", false}}.dump(), kJson),
               400);
  expect_error(c.Post("/api/create",
                      json{{"model", "m"}, {"modelfile", "FROM " + file}, {"stream", false}}.dump(), kJson),
               400);
  expect_error(
      c.Post("/api/create", json{{"model", "m"}, {"from", "nosuch"}, {"stream", false}}.dump(), kJson), 404);
  expect_error(
      c.Post("/api/create",
             json{{"model", "m"}, {"from", "stories260K"}, {"adapters", {{"a", missing}}}}.dump(), kJson),
      400, "adapters");
  expect_error(
      c.Post("/api/create",
             json{{"model", "m"}, {"files", {{"a.safetensors", missing}, {"b.safetensors", missing}}}}.dump(),
             kJson),
      400, "safetensors");
  EXPECT_EQ(snapshot(root()), before);
}

TEST_F(StoreServerTest, HostileNamesAndDigestsAreRefusedBeforeTouchingTheStore) {
  auto c = server_->client();
  fs::path victim = root().parent_path() / ("sov_victim_" + std::to_string(::getpid()));
  fs::create_directories(victim);
  std::ofstream(victim / "latest") << "keep";
  auto before = snapshot(root());
  const std::string long_name(600, 'a');
  for (const std::string& name :
       {std::string("../") + victim.filename().string(), std::string("../../etc/passwd"),
        std::string("%2e%2e/%2e%2e/x"), std::string("a/b/c/d"), std::string("x:../../y"),
        std::string("/etc/passwd"), long_name, std::string("a\\b")}) {
    SCOPED_TRACE(name);
    expect_error(c.Post("/api/pull", json{{"model", name}, {"insecure", true}}.dump(), kJson), 400);
    expect_error(c.Post("/api/create", json{{"model", name}, {"from", "stories260K"}}.dump(), kJson), 400);
    expect_error(c.Post("/api/create", json{{"model", "ok"}, {"from", name}}.dump(), kJson), 400);
    expect_error(c.Post("/api/copy", json{{"source", "stories260K"}, {"destination", name}}.dump(), kJson),
                 400);
    auto shown = c.Post("/api/show", json{{"model", name}}.dump(), kJson);
    ASSERT_TRUE(shown);
    EXPECT_TRUE(shown->status == 400 || shown->status == 404) << shown->status;
    auto deleted = c.Delete("/api/delete", json{{"model", name}}.dump(), kJson);
    ASSERT_TRUE(deleted);
    EXPECT_TRUE(deleted->status == 400 || deleted->status == 404) << deleted->status;
  }
  for (const std::string& digest :
       {std::string("sha256-abc"), std::string("sha256:") + std::string(63, 'a'),
        std::string("sha256:") + std::string(65, 'a'), std::string("sha256:") + std::string(64, 'g'),
        std::string("%2e%2e"), std::string("md5:") + std::string(32, 'a'), std::string(64, 'a')}) {
    SCOPED_TRACE(digest);
    auto head = c.Head("/api/blobs/" + digest);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 400);
    expect_error(c.Post("/api/blobs/" + digest, "data", "application/octet-stream"), 400);
    expect_error(c.Post("/api/create", json{{"model", "m"}, {"files", {{"m.gguf", digest}}}}.dump(), kJson),
                 400);
  }
  // An encoded '/' never reaches the handler: the route has no such path.
  expect_error(c.Post("/api/blobs/sha256:..%2f..%2fetc%2fpasswd", "data", "application/octet-stream"), 404);
  EXPECT_EQ(snapshot(root()), before);
  EXPECT_EQ(read_bytes((victim / "latest").string()), "keep");
  fs::remove_all(victim);
}

TEST_F(StoreServerTest, CopyAndDeleteCollectGarbage) {
  auto c = server_->client();
  // A loose file copied into the store becomes a store model.
  ASSERT_EQ(
      c.Post("/api/copy", json{{"source", "stories260K"}, {"destination", "a:v1"}}.dump(), kJson)->status,
      200);
  ASSERT_EQ(c.Post("/api/copy", json{{"source", "a:v1"}, {"destination", "b:v1"}}.dump(), kJson)->status,
            200);
  const size_t blobs = count_blobs(root());
  EXPECT_GE(blobs, 2u);  // weights and config
  json tags = json::parse(c.Get("/api/tags")->body);
  std::set<std::string> names;
  for (const auto& m : tags["models"]) names.insert(m["name"]);
  EXPECT_TRUE(names.count("a:v1") && names.count("b:v1") && names.count("stories260K:latest")) << tags.dump();
  // Shared blobs stay while one model needs them, and go with the last.
  ASSERT_EQ(c.Delete("/api/delete", json{{"model", "a:v1"}}.dump(), kJson)->status, 200);
  EXPECT_EQ(count_blobs(root()), blobs);
  EXPECT_EQ(generate(c, "b:v1", "Once upon a time", greedy(4)).empty(), false);
  ASSERT_EQ(c.Delete("/api/delete", json{{"model", "b:v1"}}.dump(), kJson)->status, 200);
  EXPECT_EQ(count_blobs(root()), 0u);
  expect_error(c.Delete("/api/delete", json{{"model", "b:v1"}}.dump(), kJson), 404);
  expect_error(c.Post("/api/copy", json{{"source", "nosuch"}, {"destination", "c"}}.dump(), kJson), 404);
  // The loose file itself is untouched by the store's garbage collection.
  EXPECT_TRUE(fs::exists(root() / "stories260K.gguf"));
}

TEST_F(StoreServerTest, APulledModelGeneratesWhatItsFileGenerates) {
  registry_.add_model("library", "stories", "plain", stories_);
  auto c = server_->client();
  int status = 0;
  post(c, "/api/pull", {{"model", remote("stories:plain")}, {"insecure", true}, {"stream", false}}, &status);
  ASSERT_EQ(status, 200);
  auto ref = test::stories_reference(data_);
  EXPECT_EQ(generate(c, remote("stories:plain"), ref.prompt, greedy(16)), ref.text);
  EXPECT_EQ(generate(c, "stories260K", ref.prompt, greedy(16)), ref.text);
  EXPECT_EQ(generate(c, remote("stories:plain"), ref.prompt, greedy(48)),
            generate(c, "stories260K", ref.prompt, greedy(48)));
}

TEST_F(StoreServerTest, ConcurrentPullsOfTheSameModel) {
  registry_.add_model("library", "stories", "twice", stories_);
  std::vector<std::thread> threads;
  std::vector<int> statuses(3, 0);
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      auto c = server_->client();
      auto res = c.Post(
          "/api/pull", json{{"model", remote("stories:twice")}, {"insecure", true}, {"stream", false}}.dump(),
          kJson);
      statuses[i] = res ? res->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) EXPECT_EQ(s, 200);
  const store::Digest d = store::sha256_of(stories_);
  EXPECT_EQ(read_bytes((root() / "blobs" / d.file_name()).string()), stories_);
  for (const auto& e : fs::directory_iterator(root() / "blobs")) {
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
  }
  auto c = server_->client();
  auto ref = test::stories_reference(data_);
  EXPECT_EQ(generate(c, remote("stories:twice"), ref.prompt, greedy(16)), ref.text);
}

TEST_F(StoreServerTest, DeleteWhileGeneratingKeepsTheRunningModelWorking) {
  auto c = server_->client();
  ASSERT_EQ(
      c.Post("/api/copy", json{{"source", "TinyLLama-v0.Q4_0"}, {"destination", "victim:v1"}}.dump(), kJson)
          ->status,
      200);
  // A long greedy generation (end-of-text banned), so that the delete below lands while
  // the model is still generating.
  const json request{
      {"prompt", "Once upon a time"}, {"max_tokens", 600}, {"temperature", 0}, {"logit_bias", {{"2", -100}}}};
  json want_body = request;
  want_body["model"] = "TinyLLama-v0.Q4_0";
  const json want = post(c, "/v1/completions", want_body);
  ASSERT_EQ(want["usage"]["completion_tokens"], 600) << want.dump();
  // Stream from the store model; at the first chunk, delete the model (garbage collection
  // unlinks its blob) and read the rest.
  std::string got, buffer;
  bool deleted = false, done = false;
  int delete_status = 0;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", kJson);
  json body = request;
  body["model"] = "victim:v1";
  body["stream"] = true;
  req.body = body.dump();
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      if (event == "data: [DONE]") {
        done = true;
        continue;
      }
      json chunk = json::parse(event.substr(6));
      got += chunk["choices"][0].value("text", "");
      if (!deleted) {
        deleted = true;
        auto other = server_->client();
        auto d = other.Delete("/api/delete", json{{"model", "victim:v1"}}.dump(), kJson);
        delete_status = d ? d->status : -1;
        EXPECT_EQ(count_blobs(root()), 0u);  // the weights are unlinked while mapped
      }
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err;
  const bool sent = c.send(req, res, err);
  ASSERT_TRUE(sent) << httplib::to_string(err);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(delete_status, 200);
  EXPECT_TRUE(done);
  EXPECT_EQ(got, want["choices"][0]["text"]);
  // The name is gone; the server and the other models are fine.
  expect_error(c.Post("/api/generate", json{{"model", "victim:v1"}, {"prompt", "x"}}.dump(), kJson), 404);
  EXPECT_EQ(post(c, "/v1/completions", want_body)["choices"][0]["text"], want["choices"][0]["text"]);
}

TEST_F(StoreServerTest, AnOllamaStoreIsServedReadOnly) {
  // An Ollama-layout store made by our own store code, then served read-only.
  fs::path ollama = root() / "ollama-store";
  store::Store theirs(store::StoreOptions{ollama.string(), {}, ""});
  store::CreateRequest request;
  request.from = data_ + "/models/stories260K.gguf";
  ASSERT_TRUE(theirs.create("llama3.2:1b", request, nullptr, nullptr));
  auto before = snapshot(ollama);

  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.n_threads = 1;
  store::StoreOptions options;
  options.root = (root() / "mine").string();
  options.read_only_roots = {ollama.string()};
  Server server(config, std::make_unique<StoreResolver>(options, std::vector<std::string>{}));
  ASSERT_TRUE(server.start());
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(std::chrono::seconds(60));

  json tags = json::parse(c.Get("/api/tags")->body);
  ASSERT_EQ(tags["models"].size(), 1u) << tags.dump();
  EXPECT_EQ(tags["models"][0]["name"], "llama3.2:1b");
  auto ref = test::stories_reference(data_);
  EXPECT_EQ(generate(c, "llama3.2:1b", ref.prompt, greedy(16)), ref.text);
  expect_error(c.Delete("/api/delete", json{{"model", "llama3.2:1b"}}.dump(), kJson), 400, "read-only");
  // A copy lands in our store (blobs linked or copied), never in theirs.
  ASSERT_EQ(
      c.Post("/api/copy", json{{"source", "llama3.2:1b"}, {"destination", "mine:v1"}}.dump(), kJson)->status,
      200);
  EXPECT_EQ(generate(c, "mine:v1", ref.prompt, greedy(16)), ref.text);
  ASSERT_EQ(c.Delete("/api/delete", json{{"model", "mine:v1"}}.dump(), kJson)->status, 200);
  EXPECT_EQ(snapshot(ollama), before);
  server.stop();
}

}  // namespace
}  // namespace sov::server
