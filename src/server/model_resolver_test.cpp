#include "server/model_resolver.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/model_info.h"

namespace sov::server {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("sov_resolver_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

TEST(ModelName, CanonicalFormAndValidation) {
  EXPECT_EQ(*canonical_model_name("llama3"), "llama3:latest");
  EXPECT_EQ(*canonical_model_name("llama3:8b"), "llama3:8b");
  EXPECT_EQ(*canonical_model_name("stories260K.gguf"), "stories260K:latest");
  for (const char* bad : {"", "../etc/passwd", "a/b", "/abs", ".hidden", "-x", "a..b", "a:b:c", "a:", ":t",
                          "a b", "a\\b", "x:../y"}) {
    EXPECT_FALSE(canonical_model_name(bad).is_ok()) << bad;
  }
}

TEST(DirectoryResolver, ResolvesOnlyInsideTheModelsDirectory) {
  TempDir dir;
  write(dir.path() / "tiny.gguf", "x");
  write(dir.path() / "tiny:q4.gguf", "yy");
  write(dir.path() / "notes.txt", "z");
  TempDir outside;
  write(outside.path() / "secret.gguf", "s");
  TempDir other;
  write(other.path() / "preloaded.gguf", "p");
  const std::string preload = (other.path() / "preloaded.gguf").string();
  DirectoryResolver r(dir.path().string(), {preload});

  auto e = r.resolve("tiny");
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e->name, "tiny:latest");
  EXPECT_EQ(e->size, 1u);
  EXPECT_TRUE(e->in_models_dir);
  EXPECT_EQ(r.resolve("tiny:latest")->path, e->path);
  EXPECT_EQ(r.resolve("tiny:q4")->size, 2u);
  EXPECT_EQ(r.resolve("nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.resolve("notes").status().code(), ErrorCode::kNotFound);
  // Paths are refused unless they were given at start-up.
  EXPECT_EQ(r.resolve((outside.path() / "secret.gguf").string()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.resolve("../" + outside.path().filename().string() + "/secret").status().code(),
            ErrorCode::kInvalidArgument);
  auto p = r.resolve(preload);
  ASSERT_TRUE(p.is_ok());
  EXPECT_FALSE(p->in_models_dir);
  EXPECT_EQ(r.resolve("preloaded")->path, preload);

  auto list = r.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "preloaded:latest");
  EXPECT_EQ(list[1].name, "tiny:latest");
  EXPECT_EQ(list[2].name, "tiny:q4");
}

TEST(DirectoryResolver, CopyAndDelete) {
  TempDir dir;
  write(dir.path() / "a.gguf", "abc");
  TempDir other;
  write(other.path() / "pre.gguf", "p");
  DirectoryResolver r(dir.path().string(), {(other.path() / "pre.gguf").string()});
  ASSERT_TRUE(r.copy("a", "b:v2").is_ok());
  EXPECT_EQ(r.resolve("b:v2")->size, 3u);
  EXPECT_EQ(r.copy("missing", "c").code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.copy("a", "../escape").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.copy("a", "/tmp/x").code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(r.remove("b:v2").is_ok());
  EXPECT_EQ(r.resolve("b:v2").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.remove("b:v2").code(), ErrorCode::kNotFound);
  // Files given on the command line are never deleted.
  EXPECT_EQ(r.remove("pre").code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(other.path() / "pre.gguf"));

  DirectoryResolver no_dir("", {});
  EXPECT_EQ(no_dir.copy("a", "b").code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(no_dir.list().empty());
}

TEST(ModelInfo, ParameterCountAndDigest) {
  EXPECT_EQ(format_parameter_count(260000), "260K");
  EXPECT_EQ(format_parameter_count(15200000), "15.2M");
  EXPECT_EQ(format_parameter_count(1100000000), "1.1B");
  EXPECT_EQ(format_parameter_count(7241732096), "7.2B");
  EXPECT_EQ(format_parameter_count(123), "123");
  TempDir dir;
  write(dir.path() / "f", "abc");
  EXPECT_EQ(*sha256_file((dir.path() / "f").string()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(sha256_file((dir.path() / "missing").string()).is_ok());
}

}  // namespace
}  // namespace sov::server
