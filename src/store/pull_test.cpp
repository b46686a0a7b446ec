// `Store::pull` against a real registry server on loopback (test_registry.h) serving the
// stories260K test model, with faults injected: dropped connections, stalls, corrupt bytes,
// error statuses, a Bearer challenge, a redirect to a second server, a full disk, cancel.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "base/testdata.h"
#include "store/download.h"
#include "store/fs_util.h"
#include "store/registry.h"
#include "store/store.h"
#include "store/test_registry.h"
#include "store/test_util.h"

namespace sov::store {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::TestRegistry;

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = ::sov::test::testdata_dir();
    if (!data) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    gguf_ = read_file(*data + "/models/stories260K.gguf");
    ASSERT_GT(gguf_.size(), 1000000u);
    manifest_ = registry_.add_model("library", "stories", "latest", gguf_, "{{ .Prompt }}",
                                    "You tell stories.", {{"temperature", 0.5}, {"stop", {"</s>"}}});
    model_ = manifest_.layers[0].digest;
    ASSERT_TRUE(registry_.start().is_ok());
    options_.registry = registry_.base_url();
    options_.retry_backoff_ms = 10;
    options_.stall_timeout_ms = 300;
    options_.connect_timeout_ms = 2000;
  }

  uint64_t total_size() const { return manifest_.total_size(); }
  std::string final_blob() const { return store_.blobs_dir() + "/" + model_.file_name(); }
  std::string partial_blob() const { return final_blob() + "-partial"; }

  // No manifest, no verified model blob: a failed pull left no trace of the name.
  void expect_no_model() {
    EXPECT_EQ(store_.resolve("stories").status().code(), ErrorCode::kNotFound);
    auto list = store_.list();
    ASSERT_TRUE(list.is_ok());
    EXPECT_TRUE(list->empty());
    EXPECT_FALSE(fs::exists(final_blob()));
  }

  void expect_pulled() {
    auto m = store_.resolve("stories");
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_EQ(read_file(m->gguf_path), gguf_);  // byte-identical to the file loaded by path
    EXPECT_EQ(m->system, "You tell stories.");
    EXPECT_EQ(m->template_text, "{{ .Prompt }}");
    EXPECT_EQ(m->params.dump(), R"({"temperature":0.5,"stop":["</s>"]})");
    EXPECT_FALSE(fs::exists(partial_blob()));
    EXPECT_FALSE(fs::exists(partial_blob() + ".json"));
  }

  TempDir dir_;
  Store store_{StoreOptions{dir_ / "models", {}, ""}};
  TestRegistry registry_;
  std::string gguf_;
  Manifest manifest_;
  Digest model_;
  PullOptions options_;
};

TEST_F(PullTest, PullsAModelWithOllamaShapedProgress) {
  std::vector<Progress> events;
  Status s = store_.pull(
      "stories", options_, [&](const Progress& p) { events.push_back(p); }, nullptr);
  ASSERT_TRUE(s.is_ok()) << s.message();
  expect_pulled();
  EXPECT_NE(registry_.last_manifest_accept().find("application/vnd.docker.distribution.manifest.v2+json"),
            std::string::npos);
  EXPECT_EQ(registry_.total_bytes_served(), total_size());

  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.front().status, "pulling manifest");
  EXPECT_EQ(events.back().status, "success");
  uint64_t last = 0;
  bool saw_complete = false;
  for (const auto& e : events) {
    if (e.digest != model_.str()) continue;
    EXPECT_EQ(e.status, "pulling " + model_.short_id());
    EXPECT_EQ(e.total, gguf_.size());
    EXPECT_GE(e.completed, last);
    last = e.completed;
    saw_complete |= e.completed == e.total;
  }
  EXPECT_TRUE(saw_complete);

  // Pulling again downloads nothing.
  registry_.reset_counters();
  ASSERT_TRUE(store_.pull("stories:latest", options_, nullptr, nullptr).is_ok());
  EXPECT_EQ(registry_.total_bytes_served(), 0u);
}

TEST_F(PullTest, ParallelRangedParts) {
  options_.part_size = 100 * 1000;
  options_.max_parallel = 3;
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_GE(registry_.blob_requests(), static_cast<int>(gguf_.size() / options_.part_size));
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size());
}

TEST_F(PullTest, DroppedConnectionResumesWithinOnePull) {
  registry_.cut_after(model_, 300 * 1000, 2);
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.faults_injected(), 2);
  // Two cuts, three requests, and not one byte fetched twice.
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size());
}

TEST_F(PullTest, DroppedConnectionsInParallelParts) {
  options_.part_size = 128 * 1024;
  options_.max_parallel = 4;
  registry_.cut_after(model_, 50 * 1000, 5);
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.faults_injected(), 5);
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size());
}

TEST_F(PullTest, InterruptedPullResumesWithoutRefetching) {
  const uint64_t cut = 400 * 1000;
  registry_.cut_after(model_, cut, 1);
  options_.max_retries = 0;
  Status s = store_.pull("stories", options_, nullptr, nullptr);
  ASSERT_EQ(s.code(), ErrorCode::kIoError) << s.message();
  EXPECT_EQ(registry_.faults_injected(), 1);
  expect_no_model();
  // The partial download and its record are kept for the next pull.
  EXPECT_TRUE(fs::exists(partial_blob()));
  EXPECT_TRUE(fs::exists(partial_blob() + ".json"));
  EXPECT_EQ(partial_bytes(store_.blobs_dir(), manifest_.layers[0]), cut);
  EXPECT_EQ(registry_.bytes_served(model_), cut);

  registry_.reset_counters();
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size() - cut);  // only the missing bytes
}

TEST_F(PullTest, CorruptBlobIsRefusedAndNotInstalled) {
  registry_.corrupt_at(model_, 12345);
  Status s = store_.pull("stories", options_, nullptr, nullptr);
  ASSERT_EQ(s.code(), ErrorCode::kCorrupt) << s.message();
  EXPECT_NE(s.message().find("failed verification"), std::string::npos) << s.message();
  expect_no_model();
  EXPECT_FALSE(fs::exists(partial_blob()));  // bad data is not kept for a resume
  EXPECT_FALSE(fs::exists(partial_blob() + ".json"));
}

TEST_F(PullTest, StallIsDetectedAndRetried) {
  registry_.stall_after(model_, 200 * 1000, 1, 20000);
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.faults_injected(), 1);
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size());
}

TEST_F(PullTest, StallWithoutRetriesFailsCleanly) {
  registry_.stall_after(model_, 0, -1, 20000);  // every response stalls at once: no progress
  options_.max_retries = 1;
  Status s = store_.pull("stories", options_, nullptr, nullptr);
  ASSERT_EQ(s.code(), ErrorCode::kIoError) << s.message();
  EXPECT_NE(s.message().find("stalled"), std::string::npos) << s.message();
  expect_no_model();
}

TEST_F(PullTest, ServerErrorsAreRetried) {
  registry_.fail_blob_requests(503, 3);
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.faults_injected(), 3);
}

TEST_F(PullTest, UnknownModelIsNotFound) {
  Status s = store_.pull("nosuch:tag", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.message();
  EXPECT_NE(s.message().find("not found in the registry"), std::string::npos);
  EXPECT_TRUE(store_.list()->empty());
}

TEST_F(PullTest, MissingBlobFailsCleanly) {
  Manifest m = manifest_;
  m.layers[0].digest = sha256_of("not served");
  registry_.add_manifest("library", "broken", "latest", serialize_manifest(m));
  Status s = store_.pull("broken", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.message();
  EXPECT_EQ(store_.resolve("broken").status().code(), ErrorCode::kNotFound);
}

TEST_F(PullTest, SizeMismatchBetweenManifestAndBlobIsCorrupt) {
  Manifest m = manifest_;
  m.layers[0].size -= 10;
  registry_.add_manifest("library", "liar", "latest", serialize_manifest(m));
  Status s = store_.pull("liar", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt) << s.message();
  EXPECT_EQ(store_.resolve("liar").status().code(), ErrorCode::kNotFound);
}

TEST_F(PullTest, HostileManifestFromTheRegistryIsRefused) {
  std::string evil = serialize_manifest(manifest_);
  const std::string good = model_.str();
  evil.replace(evil.find(good), good.size(),
               "sha256:../../../../../../../../../../tmp/pwned" + std::string(26, 'a'));
  registry_.add_manifest("library", "evil", "latest", evil);
  Status s = store_.pull("evil", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt) << s.message();
  EXPECT_EQ(registry_.blob_requests(), 0);
  EXPECT_TRUE(store_.list()->empty());
}

TEST_F(PullTest, BearerTokenChallenge) {
  registry_.require_token("s3cret-token");
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.token_requests(), 1);
  EXPECT_GT(registry_.authorized_requests(), 0);
}

TEST_F(PullTest, RedirectToAnotherHostDoesNotLeakTheToken) {
  TestRegistry cdn;
  cdn.add_model("library", "stories", "latest", gguf_, "{{ .Prompt }}", "You tell stories.",
                {{"temperature", 0.5}, {"stop", {"</s>"}}});
  ASSERT_TRUE(cdn.start().is_ok());
  registry_.require_token("s3cret-token");
  registry_.redirect_blobs_to(cdn.base_url());
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.bytes_served(model_), 0u);
  EXPECT_EQ(cdn.bytes_served(model_), gguf_.size());
  EXPECT_GT(cdn.blob_requests(), 0);
  EXPECT_EQ(cdn.authorized_requests(), 0);  // curl keeps Authorization on the original host
}

TEST_F(PullTest, FullDiskIsRefusedBeforeDownloading) {
  options_.free_space = [](const std::string&) -> Result<uint64_t> { return uint64_t{1000}; };
  Status s = store_.pull("stories", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kResourceExhausted) << s.message();
  EXPECT_NE(s.message().find("not enough disk space"), std::string::npos);
  EXPECT_EQ(registry_.blob_requests(), 0);
  expect_no_model();
}

TEST_F(PullTest, CancelKeepsThePartialForResume) {
  std::atomic<bool> cancel{false};
  registry_.stall_after(model_, 300 * 1000, 1, 20000);  // holds the pull mid-blob until cancelled
  options_.stall_timeout_ms = 60000;
  uint64_t seen = 0;
  auto progress = [&](const Progress& p) {
    if (p.digest == model_.str() && p.completed > 0 && !cancel) {
      seen = p.completed;
      cancel = true;  // Ctrl-C
    }
  };
  Status s = store_.pull("stories", options_, progress, &cancel);
  ASSERT_EQ(s.code(), ErrorCode::kCancelled) << s.message();
  expect_no_model();
  const uint64_t kept = partial_bytes(store_.blobs_dir(), manifest_.layers[0]);
  EXPECT_GE(kept, seen);  // everything reported as received is on disk and recorded
  EXPECT_GT(kept, 0u);

  registry_.reset_counters();
  ASSERT_TRUE(store_.pull("stories", options_, nullptr, nullptr).is_ok());
  expect_pulled();
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size() - kept);
}

TEST_F(PullTest, ConcurrentPullsOfTheSameModel) {
  options_.part_size = 128 * 1024;
  Status a, b;
  std::thread t1([&] { a = store_.pull("stories", options_, nullptr, nullptr); });
  std::thread t2([&] { b = store_.pull("stories", options_, nullptr, nullptr); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a.is_ok()) << a.message();
  ASSERT_TRUE(b.is_ok()) << b.message();
  expect_pulled();
  EXPECT_EQ(registry_.bytes_served(model_), gguf_.size());  // one download; the other waited
}

TEST_F(PullTest, UsesBlobsAlreadyInAnOllamaStore) {
  // The same model already pulled into an "Ollama" store.
  Store ollama(StoreOptions{dir_ / "ollama", {}, ""});
  ASSERT_TRUE(ollama.pull("stories", options_, nullptr, nullptr).is_ok());
  registry_.reset_counters();
  Store store(StoreOptions{dir_ / "mine", {dir_ / "ollama"}, ""});
  ASSERT_TRUE(store.pull("other-host-alias", options_, nullptr, nullptr).code() == ErrorCode::kNotFound);
  ASSERT_TRUE(store.pull("stories:latest", options_, nullptr, nullptr).is_ok());
  EXPECT_EQ(registry_.total_bytes_served(), 0u);  // nothing downloaded again
  auto m = store.resolve("stories");
  ASSERT_TRUE(m.is_ok());
  EXPECT_FALSE(m->read_only);
  EXPECT_TRUE(m->gguf_path.starts_with(dir_ / "mine/blobs/"));
}

TEST_F(PullTest, ModelNameWithRegistryHost) {
  // host:port in the name, no override; --insecure makes it plain http.
  options_.registry.clear();
  options_.insecure = true;
  const std::string name = "127.0.0.1:" + std::to_string(registry_.port()) + "/library/stories:latest";
  ASSERT_TRUE(store_.pull(name, options_, nullptr, nullptr).is_ok());
  auto m = store_.resolve(name);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(read_file(m->gguf_path), gguf_);
  EXPECT_TRUE(fs::exists(
      dir_ / ("models/manifests/127.0.0.1:" + std::to_string(registry_.port()) + "/library/stories/latest")));
}

TEST_F(PullTest, TlsToAPlainHttpRegistryFailsWithoutRetrying) {
  options_.registry = "https://127.0.0.1:" + std::to_string(registry_.port());
  options_.max_retries = 2;
  Status s = store_.pull("stories", options_, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.message();  // kIoError had it been retried
  EXPECT_NE(s.message().find("--insecure"), std::string::npos) << s.message();
}

TEST(Registry, BaseUrlPolicy) {
  auto name = *parse_model_name("llama3.2");
  EXPECT_EQ(*registry_base_url(name, "", false), "https://registry.ollama.ai");
  EXPECT_EQ(*registry_base_url(name, "", true), "http://registry.ollama.ai");
  EXPECT_EQ(*registry_base_url(name, "https://mirror.example/", false), "https://mirror.example");
  EXPECT_EQ(registry_base_url(name, "http://mirror.example", false).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(registry_base_url(name, "http://mirror.example", true).is_ok());
  EXPECT_TRUE(registry_base_url(name, "http://127.0.0.1:5000", false).is_ok());
  EXPECT_TRUE(registry_base_url(name, "http://localhost:5000", false).is_ok());
  EXPECT_FALSE(registry_base_url(name, "http://127.0.0.1@evil.example", false).is_ok());
  EXPECT_FALSE(registry_base_url(name, "ftp://x", true).is_ok());
  EXPECT_FALSE(registry_base_url(name, "https://x/\r\nHost: y", true).is_ok());
}

TEST(Registry, ParsesBearerChallenges) {
  auto c = parse_bearer_challenge(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull")");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->realm, "https://auth.example/token");
  EXPECT_EQ(c->service, "registry.example");
  EXPECT_EQ(c->scope, "repository:a/b:pull");
  EXPECT_FALSE(parse_bearer_challenge("Basic realm=\"x\"").is_ok());
  EXPECT_FALSE(parse_bearer_challenge("Bearer service=\"x\"").is_ok());
  EXPECT_FALSE(parse_bearer_challenge("Bearer realm=\"unterminated").is_ok());
}

TEST(Registry, ConnectionRefusedIsATransportError) {
  // A port that was free a moment ago: nobody listens there now.
  int port = 0;
  {
    TestRegistry r;
    ASSERT_TRUE(r.start().is_ok());
    port = r.port();
  }
  TempDir dir;
  Store store(StoreOptions{dir / "m", {}, "http://127.0.0.1:" + std::to_string(port)});
  PullOptions o;
  o.max_retries = 1;
  o.retry_backoff_ms = 10;
  Status s = store.pull("x", o, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kIoError) << s.message();
}

}  // namespace
}  // namespace sov::store
