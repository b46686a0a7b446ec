#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/testdata.h"
#include "store/config.h"
#include "store/details.h"
#include "store/fs_util.h"
#include "store/progress_bar.h"
#include "store/test_util.h"

namespace sov::store {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::tiny_gguf;
using testing::write_file;

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : store_(StoreOptions{dir_ / "models", {}, ""}) {}

  // Creates NAME from a tiny GGUF file and returns the file path.
  std::string create_model(const std::string& name, int seed, CreateRequest req = {}) {
    std::string path = dir_ / ("src" + std::to_string(seed) + ".gguf");
    write_file(path, tiny_gguf(seed));
    req.from = path;
    Status s = store_.create(name, req, nullptr, nullptr);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return path;
  }

  size_t blob_count() const {
    size_t n = 0;
    for (const auto& e : list_dir(store_.blobs_dir())) n += e.starts_with("sha256-");
    return n;
  }

  TempDir dir_;
  Store store_;
};

TEST_F(StoreTest, CreateResolveListFromGgufFile) {
  CreateRequest req;
  req.template_text = "{{ .Prompt }}";
  req.system = "Be brief.";
  req.params = nlohmann::ordered_json{{"temperature", 0.2}, {"stop", {"</s>"}}};
  req.messages = std::vector<ChatMessage>{{"user", "hi"}, {"assistant", "hello"}};
  req.licenses = std::vector<std::string>{"MIT"};
  std::vector<std::string> statuses;
  std::string path = dir_ / "m.gguf";
  write_file(path, tiny_gguf(1));
  req.from = path;
  ASSERT_TRUE(store_
                  .create(
                      "tiny", req, [&](const Progress& p) { statuses.push_back(p.status); }, nullptr)
                  .is_ok());
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), "success");

  auto m = store_.resolve("tiny");
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->name, "tiny:latest");
  EXPECT_EQ(m->full_name, "registry.ollama.ai/library/tiny:latest");
  EXPECT_EQ(read_file(m->gguf_path), tiny_gguf(1));
  EXPECT_EQ(m->gguf_path, store_.blobs_dir() + "/" + sha256_of(tiny_gguf(1)).file_name());
  EXPECT_EQ(m->template_text, "{{ .Prompt }}");
  EXPECT_EQ(m->system, "Be brief.");
  EXPECT_EQ(m->params.dump(), R"({"temperature":0.2,"stop":["</s>"]})");
  ASSERT_EQ(m->messages.size(), 2u);
  EXPECT_EQ(m->messages[1].content, "hello");
  EXPECT_EQ(m->licenses, std::vector<std::string>{"MIT"});
  EXPECT_FALSE(m->read_only);
  // Ollama's layout, and the digest is the manifest file's SHA-256.
  const std::string manifest_path = dir_ / "models/manifests/registry.ollama.ai/library/tiny/latest";
  EXPECT_EQ(m->digest, sha256_of(read_file(manifest_path)).str());
  EXPECT_GT(m->size, tiny_gguf(1).size());

  auto list = store_.list();
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "tiny:latest");
  EXPECT_EQ((*list)[0].digest, m->digest);
  EXPECT_EQ((*list)[0].gguf_path, m->gguf_path);

  // The config blob describes the GGUF.
  auto manifest = parse_manifest(read_file(manifest_path));
  ASSERT_TRUE(manifest.is_ok());
  auto config = nlohmann::json::parse(read_file(*store_.find_blob(manifest->config.digest)));
  EXPECT_EQ(config["model_family"], "llama");
  EXPECT_EQ(config["file_type"], "F32");
}

TEST_F(StoreTest, NamesAreCaseInsensitive) {
  create_model("User/Mixed:Tag", 2);
  EXPECT_TRUE(store_.resolve("user/mixed:tag").is_ok());
  EXPECT_TRUE(store_.resolve("USER/MIXED:TAG").is_ok());
  // Writing the other case reuses the same folders instead of making a twin.
  create_model("user/mixed:tag", 3);
  auto list = store_.list();
  ASSERT_TRUE(list.is_ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(read_file(store_.resolve("User/Mixed:Tag")->gguf_path), tiny_gguf(3));
}

TEST_F(StoreTest, InheritsFromAnotherModelAndOverrides) {
  CreateRequest base_req;
  base_req.system = "base system";
  base_req.template_text = "T";
  base_req.params = nlohmann::ordered_json{{"temperature", 0.9}, {"num_ctx", 256}};
  create_model("base", 4, base_req);

  CreateRequest req;
  req.from = "base";
  req.system = "child system";
  req.params = nlohmann::ordered_json{{"temperature", 0.1}};
  ASSERT_TRUE(store_.create("child:v1", req, nullptr, nullptr).is_ok());
  auto child = store_.resolve("child:v1");
  ASSERT_TRUE(child.is_ok());
  auto base = store_.resolve("base");
  EXPECT_EQ(child->gguf_path, base->gguf_path);  // the weights blob is shared
  EXPECT_EQ(child->system, "child system");
  EXPECT_EQ(child->template_text, "T");
  EXPECT_EQ(child->params.dump(), R"({"temperature":0.1,"num_ctx":256})");

  // An empty system removes it.
  req.system = "";
  ASSERT_TRUE(store_.create("child:v2", req, nullptr, nullptr).is_ok());
  EXPECT_EQ(store_.resolve("child:v2")->system, "");
}

TEST_F(StoreTest, CreateRefusals) {
  CreateRequest req;
  req.from = "nosuchmodel";
  Status s = store_.create("x", req, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find("pull it first"), std::string::npos) << s.message();

  std::string not_gguf = dir_ / "notes.gguf";
  write_file(not_gguf, "this is not a gguf file at all");
  req.from = not_gguf;
  s = store_.create("x", req, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.message();

  req.from = dir_ / "missing.gguf";
  EXPECT_EQ(store_.create("x", req, nullptr, nullptr).code(), ErrorCode::kNotFound);

  write_file(dir_ / "ok.gguf", tiny_gguf(5));
  req.from = dir_ / "ok.gguf";
  req.allow_paths = false;  // a server request
  EXPECT_EQ(store_.create("x", req, nullptr, nullptr).code(), ErrorCode::kInvalidArgument);

  req.allow_paths = true;
  req.params = nlohmann::ordered_json{{"num_ctx", "lots"}};
  EXPECT_EQ(store_.create("x", req, nullptr, nullptr).code(), ErrorCode::kInvalidArgument);
  req.params.reset();
  req.quantize = "Q9_Z";
  EXPECT_EQ(store_.create("x", req, nullptr, nullptr).code(), ErrorCode::kInvalidArgument);
  // Nothing was written under any name.
  EXPECT_TRUE(store_.list()->empty());
}

TEST_F(StoreTest, RemoveCollectsOnlyUnreferencedBlobs) {
  CreateRequest a;
  a.system = "A";
  create_model("a", 6, a);
  CreateRequest b;
  b.from = "a";
  b.system = "B";
  ASSERT_TRUE(store_.create("b", b, nullptr, nullptr).is_ok());
  const size_t before = blob_count();
  const std::string weights = store_.resolve("a")->gguf_path;

  GcResult gc;
  ASSERT_TRUE(store_.remove("a", &gc).is_ok());
  EXPECT_FALSE(gc.skipped);
  EXPECT_EQ(gc.removed, 2u);  // a's system layer and config; b still needs the weights
  EXPECT_EQ(blob_count(), before - 2);
  EXPECT_TRUE(fs::exists(weights));
  EXPECT_EQ(store_.resolve("a").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_.resolve("b").is_ok());
  // Empty manifest folders are removed.
  EXPECT_FALSE(fs::exists(dir_ / "models/manifests/registry.ollama.ai/library/a"));

  ASSERT_TRUE(store_.remove("b", &gc).is_ok());
  EXPECT_EQ(blob_count(), 0u);
  EXPECT_EQ(store_.remove("b").code(), ErrorCode::kNotFound);
}

TEST_F(StoreTest, RemoveKeepsAMappedModelReadable) {
  create_model("loaded", 7);
  const std::string path = store_.resolve("loaded")->gguf_path;
  auto file = gguf::File::open(path);  // "loaded" by a running server
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE(store_.remove("loaded").is_ok());
  EXPECT_FALSE(fs::exists(path));
  ASSERT_NE(file->find_tensor("token_embd.weight"), nullptr);
  const auto* data = reinterpret_cast<const float*>(file->find_tensor("token_embd.weight")->data);
  EXPECT_EQ(data[5], 7 * 100 + 5);
}

TEST_F(StoreTest, GcLeavesPartialsAndSkipsWhileAWriterHoldsTheStore) {
  create_model("m", 8);
  const std::string partial = store_.blobs_dir() + "/sha256-" + std::string(64, 'e') + "-partial";
  write_file(partial, "half");
  write_file(store_.blobs_dir() + "/sha256-" + std::string(64, 'f'), "orphan");
  {
    auto lock = FileLock::acquire(store_.root() + "/.sov-store.lock", FileLock::Mode::kShared, nullptr);
    ASSERT_TRUE(lock.is_ok());
    auto gc = store_.collect_garbage();
    ASSERT_TRUE(gc.is_ok());
    EXPECT_TRUE(gc->skipped);
    EXPECT_TRUE(fs::exists(store_.blobs_dir() + "/sha256-" + std::string(64, 'f')));
  }
  // Leftovers of crashed writers, and a partial download abandoned two days ago.
  write_file(store_.blobs_dir() + "/.upload.tmp-1-2-3", "crashed upload");
  write_file(store_.blobs_dir() + "/sha256-" + std::string(64, 'd') + "-partial.lock", "");
  const std::string old_partial = store_.blobs_dir() + "/sha256-" + std::string(64, 'c') + "-partial";
  write_file(old_partial, "abandoned");
  write_file(old_partial + ".json", "{}");
  for (const auto& p : {old_partial, old_partial + ".json"}) {
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(48));
  }
  auto gc = store_.collect_garbage();
  ASSERT_TRUE(gc.is_ok());
  EXPECT_FALSE(gc->skipped);
  EXPECT_EQ(gc->removed, 5u);
  EXPECT_TRUE(fs::exists(partial));  // recent: kept for a resume
  EXPECT_FALSE(fs::exists(old_partial));
  EXPECT_TRUE(store_.resolve("m").is_ok());
}

TEST_F(StoreTest, GcWaitsForAnUploadInProgress) {
  create_model("m", 17);
  auto upload = store_.begin_blob();
  ASSERT_TRUE(upload.is_ok());
  ASSERT_TRUE((*upload)->write("abc", 3).is_ok());
  auto gc = store_.collect_garbage();
  ASSERT_TRUE(gc.is_ok());
  EXPECT_TRUE(gc->skipped);
  ASSERT_TRUE((*upload)->commit(sha256_of("abc")).is_ok());
  upload->reset();
  EXPECT_TRUE(store_.has_blob(sha256_of("abc")));
}

TEST_F(StoreTest, GcHonoursManifestsWhoseNamesWeWouldRefuse) {
  create_model("m", 18);
  // Another tool's manifest under a name our rules refuse still protects its blobs.
  std::string text = read_file(dir_ / "models/manifests/registry.ollama.ai/library/m/latest");
  write_file(dir_ / "models/manifests/registry.ollama.ai/library/other/tag..v2", text);
  const size_t blobs = blob_count();
  ASSERT_TRUE(store_.remove("m").is_ok());
  EXPECT_EQ(blob_count(), blobs);
  EXPECT_TRUE(store_.list()->empty());  // not listed: the name is invalid
}

TEST_F(StoreTest, GcRefusesWhenAManifestIsUnreadable) {
  create_model("m", 9);
  write_file(dir_ / "models/manifests/registry.ollama.ai/library/broken/latest", "{not json");
  write_file(store_.blobs_dir() + "/sha256-" + std::string(64, 'f'), "orphan");
  EXPECT_EQ(store_.collect_garbage().status().code(), ErrorCode::kCorrupt);
  EXPECT_TRUE(fs::exists(store_.blobs_dir() + "/sha256-" + std::string(64, 'f')));
  auto list = store_.list();  // the broken one is skipped, the good one listed
  ASSERT_TRUE(list.is_ok());
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(StoreTest, CopySharesBlobs) {
  create_model("orig", 10);
  const size_t blobs = blob_count();
  ASSERT_TRUE(store_.copy("orig", "me/copy:v1").is_ok());
  EXPECT_EQ(blob_count(), blobs);
  auto a = store_.resolve("orig"), b = store_.resolve("me/copy:v1");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(b->name, "me/copy:v1");
  EXPECT_EQ(store_.copy("nothere", "x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_.copy("orig", "../escape").code(), ErrorCode::kInvalidArgument);
}

TEST_F(StoreTest, BlobWriterVerifiesDigest) {
  auto w = store_.begin_blob();
  ASSERT_TRUE(w.is_ok());
  ASSERT_TRUE((*w)->write("hello", 5).is_ok());
  auto wrong = (*w)->commit(sha256_of("other"));
  EXPECT_EQ(wrong.status().code(), ErrorCode::kCorrupt);
  EXPECT_FALSE(store_.has_blob(sha256_of("hello")));
  w->reset();
  EXPECT_EQ(list_dir(store_.blobs_dir()).size(), 0u);  // the temporary file is gone

  auto w2 = store_.begin_blob();
  ASSERT_TRUE((*w2)->write("hello", 5).is_ok());
  auto ok = (*w2)->commit(sha256_of("hello"));
  ASSERT_TRUE(ok.is_ok());
  EXPECT_TRUE(store_.has_blob(sha256_of("hello")));

  // A GGUF uploaded as a blob can become a model.
  auto w3 = store_.begin_blob();
  const std::string g = tiny_gguf(11);
  ASSERT_TRUE((*w3)->write(g.data(), g.size()).is_ok());
  auto d = (*w3)->commit(Digest());
  ASSERT_TRUE(d.is_ok());
  CreateRequest req;
  req.from_blob = *d;
  req.allow_paths = false;
  ASSERT_TRUE(store_.create("uploaded", req, nullptr, nullptr).is_ok());
  EXPECT_EQ(store_.resolve("uploaded")->model_digest, d->str());
}

TEST_F(StoreTest, HostileNamesAreRefusedBeforeTouchingTheFileSystem) {
  // The store root's parent is a regular file: any file-system access under it fails with
  // kIoError or kNotFound, so kInvalidArgument proves validation came first.
  write_file(dir_ / "blocker", "x");
  Store blocked(StoreOptions{dir_ / "blocker/models", {dir_ / "blocker/ollama"}, ""});
  write_file(dir_ / "victim/latest", "do not touch");
  const std::string hostile[] = {
      "../victim", "../../victim",         "..",        "%2e%2e/%2e%2e/victim", "/etc/passwd",
      "a/b/c/d",   std::string(1000, 'x'), "x:../../y", "ns/..:latest",         "\\..\\x"};
  for (const auto& name : hostile) {
    EXPECT_EQ(blocked.resolve(name).status().code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_EQ(blocked.remove(name).code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_EQ(blocked.copy(name, "ok").code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_EQ(blocked.copy("ok", name).code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_EQ(blocked.pull(name, {}, nullptr, nullptr).code(), ErrorCode::kInvalidArgument) << name;
    CreateRequest req;
    req.from = "ok";
    EXPECT_EQ(blocked.create(name, req, nullptr, nullptr).code(), ErrorCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(read_file(dir_ / "victim/latest"), "do not touch");
}

TEST_F(StoreTest, HostileDigestInAStoredManifestIsRefused) {
  create_model("good", 12);
  std::string manifest_path = dir_ / "models/manifests/registry.ollama.ai/library/evil/latest";
  write_file(
      manifest_path,
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + std::string(64, 'a') +
          R"(","size":1},"layers":[{"mediaType":"application/vnd.ollama.image.model",)"
          R"("digest":"sha256:../../../../../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1}]})");
  auto r = store_.resolve("evil");
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt) << r.status().message();
  EXPECT_EQ(store_.copy("evil", "evil2").code(), ErrorCode::kCorrupt);
}

TEST_F(StoreTest, ReadsAnOllamaStoreInPlaceReadOnly) {
  // Build an "Ollama" store with another Store, then use it as a read-only root.
  Store ollama(StoreOptions{dir_ / "ollama", {}, ""});
  write_file(dir_ / "o.gguf", tiny_gguf(13));
  CreateRequest req;
  req.from = dir_ / "o.gguf";
  req.system = "from ollama";
  ASSERT_TRUE(ollama.create("llama3.2:1b", req, nullptr, nullptr).is_ok());
  const auto ollama_files_before =
      read_file(dir_ / "ollama/manifests/registry.ollama.ai/library/llama3.2/1b");

  Store store(StoreOptions{dir_ / "mine", {dir_ / "ollama"}, ""});
  auto m = store.resolve("llama3.2:1b");
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_TRUE(m->read_only);
  EXPECT_EQ(m->system, "from ollama");
  EXPECT_TRUE(m->gguf_path.starts_with(dir_ / "ollama/blobs/"));
  EXPECT_FALSE(fs::exists(dir_ / "mine"));  // reading wrote nothing

  auto list = store.list();
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].read_only);

  Status rm = store.remove("llama3.2:1b");
  EXPECT_EQ(rm.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(rm.message().find("read-only"), std::string::npos);
  EXPECT_TRUE(ollama.resolve("llama3.2:1b").is_ok());

  // Copying and deriving bring blobs over without touching the Ollama store.
  ASSERT_TRUE(store.copy("llama3.2:1b", "mine:v1").is_ok());
  CreateRequest child;
  child.from = "llama3.2:1b";
  child.system = "mine";
  ASSERT_TRUE(store.create("derived", child, nullptr, nullptr).is_ok());
  auto d = store.resolve("derived");
  ASSERT_TRUE(d.is_ok());
  EXPECT_FALSE(d->read_only);
  EXPECT_TRUE(d->gguf_path.starts_with(dir_ / "mine/blobs/"));
  EXPECT_EQ(read_file(d->gguf_path), tiny_gguf(13));
  ASSERT_TRUE(store.remove("mine:v1").is_ok());
  ASSERT_TRUE(store.remove("derived").is_ok());
  EXPECT_EQ(read_file(dir_ / "ollama/manifests/registry.ollama.ai/library/llama3.2/1b"), ollama_files_before);
  EXPECT_TRUE(ollama.resolve("llama3.2:1b").is_ok());
}

TEST_F(StoreTest, ResolveNameOrPath) {
  std::string path = dir_ / "direct.gguf";
  write_file(path, tiny_gguf(14));
  auto m = store_.resolve_name_or_path(path);
  ASSERT_TRUE(m.is_ok());
  EXPECT_TRUE(m->is_file);
  EXPECT_EQ(m->gguf_path, path);
  EXPECT_EQ(store_.resolve_name_or_path(dir_ / "nope.gguf").status().code(), ErrorCode::kNotFound);
  // resolve() alone never takes a path.
  EXPECT_EQ(store_.resolve(path).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(StoreTest, ModelfileRoundTripThroughTheStore) {
  std::string gguf = dir_ / "mf.gguf";
  write_file(gguf, tiny_gguf(15));
  auto mf = parse_modelfile(
      "FROM ./mf.gguf\nPARAMETER temperature 0.3\nPARAMETER stop \"<|x|>\"\n"
      "SYSTEM \"\"\"Hi.\"\"\"\nMESSAGE user hello\nLICENSE MIT\n");
  ASSERT_TRUE(mf.is_ok()) << mf.status().message();
  auto req = create_request_from_modelfile(*mf, dir_.path());
  ASSERT_TRUE(req.is_ok());
  ASSERT_TRUE(store_.create("frommf", *req, nullptr, nullptr).is_ok());
  auto m = store_.resolve("frommf");
  ASSERT_TRUE(m.is_ok());
  Modelfile shown = modelfile_of(*m);
  EXPECT_EQ(shown.from, m->gguf_path);
  EXPECT_EQ(*shown.system, "Hi.");
  EXPECT_EQ(shown.parameters,
            (std::vector<std::pair<std::string, std::string>>{{"temperature", "0.3"}, {"stop", "<|x|>"}}));
  // The shown Modelfile recreates the same model.
  auto again = parse_modelfile(format_modelfile(shown));
  ASSERT_TRUE(again.is_ok());
  auto req2 = create_request_from_modelfile(*again, "");
  ASSERT_TRUE(req2.is_ok());
  ASSERT_TRUE(store_.create("frommf2", *req2, nullptr, nullptr).is_ok());
  EXPECT_EQ(store_.resolve("frommf2")->digest, m->digest);
}

TEST_F(StoreTest, CreateWithQuantize) {
  SOV_REQUIRE_TESTDATA(data);
  CreateRequest req;
  req.from = data + "/models/synth-llama-F32.gguf";
  req.quantize = "Q8_0";
  std::vector<std::string> statuses;
  Status s = store_.create(
      "q8", req, [&](const Progress& p) { statuses.push_back(p.status); }, nullptr);
  ASSERT_TRUE(s.is_ok()) << s.message();
  auto m = store_.resolve("q8");
  ASSERT_TRUE(m.is_ok());
  auto details = read_model_details(m->gguf_path);
  ASSERT_TRUE(details.is_ok());
  EXPECT_EQ(details->quantization_level, "Q8_0");
  EXPECT_LT(m->size, fs::file_size(req.from) / 2);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "quantizing F32 model to Q8_0"), statuses.end());
  // No temporary files are left behind.
  for (const auto& e : list_dir(store_.blobs_dir())) EXPECT_TRUE(e.starts_with("sha256-")) << e;
}

TEST_F(StoreTest, Details) {
  create_model("d", 16);
  auto details = read_model_details(store_.resolve("d")->gguf_path);
  ASSERT_TRUE(details.is_ok());
  EXPECT_EQ(details->family, "llama");
  EXPECT_EQ(details->context_length, 128);
  EXPECT_EQ(details->n_params, 16u);
  EXPECT_EQ(details->quantization_level, "F32");
  EXPECT_EQ(format_parameter_count(260000), "260K");
  EXPECT_EQ(format_parameter_count(1100000000), "1.1B");
}

TEST(StoreConfig, FromEnvironment) {
  std::map<std::string, std::string> env{{"HOME", "/home/u"}};
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  StoreOptions o = store_options_from_env(lookup);
  EXPECT_EQ(o.root, "/home/u/.sovereign/models");
  EXPECT_TRUE(o.read_only_roots.empty());  // no ~/.ollama/models there
  env["SOV_MODELS"] = "/data/models";
  env["OLLAMA_MODELS"] = "/data/ollama";
  env["SOV_REGISTRY"] = "http://127.0.0.1:5000";
  o = store_options_from_env(lookup);
  EXPECT_EQ(o.root, "/data/models");
  EXPECT_EQ(o.read_only_roots, std::vector<std::string>{"/data/ollama"});
  EXPECT_EQ(o.registry, "http://127.0.0.1:5000");
  env["SOV_OLLAMA_MODELS"] = "";
  EXPECT_TRUE(store_options_from_env(lookup).read_only_roots.empty());
}

}  // namespace
}  // namespace sov::store

namespace sov::store {
namespace {

TEST(ProgressBar, Formatting) {
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(535000), "535 KB");
  EXPECT_EQ(format_bytes(1185376), "1.2 MB");
  EXPECT_EQ(format_bytes(2019393189), "2.0 GB");
  EXPECT_EQ(format_duration(5), "5s");
  EXPECT_EQ(format_duration(200), "3m20s");
  EXPECT_EQ(format_duration(3900), "1h05m");
  Progress p{"pulling 0123456789ab", "sha256:x", 1000000, 450000};
  EXPECT_EQ(render_progress_line(p, 0, 10),
            "pulling 0123456789ab:  45% \u2595\u2588\u2588\u2588\u2588      \u258f 450 KB/1.0 MB");
  EXPECT_EQ(
      render_progress_line(p, 110000, 10),
      "pulling 0123456789ab:  45% \u2595\u2588\u2588\u2588\u2588      \u258f 450 KB/1.0 MB  110 KB/s  5s");
  EXPECT_EQ(render_progress_line(status_event("success"), 0), "success");
}

TEST(ProgressBar, PlainOutputHasOneLinePerStatusAndLayer) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    ProgressPrinter printer(f, /*interactive=*/false);
    printer.update(status_event("pulling manifest"));
    for (uint64_t done : {0, 300, 600, 1000}) printer.update({"pulling abc", "sha256:abc", 1000, done});
    printer.update(status_event("success"));
    printer.finish();
  }
  std::fclose(f);
  EXPECT_EQ(std::string(buf, len), "pulling manifest\npulling abc: 100% 1 KB\nsuccess\n");
  std::free(buf);
}

}  // namespace
}  // namespace sov::store
