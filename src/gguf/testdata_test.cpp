// Every GGUF file of the shared test data loads; the negative files are refused with the
// right reason; the real TinyLLama file has the expected tensor table.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "base/testdata.h"
#include "gguf/file.h"

namespace sov::gguf {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> gguf_files_under(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".gguf") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GgufTestdata, EveryModelAndVocabLoads) {
  SOV_REQUIRE_TESTDATA(dir);
  auto files = gguf_files_under(dir + "/models");
  auto vocabs = gguf_files_under(dir + "/tokenizer");
  files.insert(files.end(), vocabs.begin(), vocabs.end());
  ASSERT_GE(files.size(), 30u);
  for (const auto& path : files) {
    auto f = File::open(path);
    EXPECT_TRUE(f.is_ok()) << path << ": " << f.status().to_string();
    if (!f.is_ok()) continue;
    EXPECT_TRUE(f->find("general.architecture") != nullptr || f->find("tokenizer.ggml.model") != nullptr)
        << path;
  }
}

TEST(GgufTestdata, NegativeFilesAreRefusedWithTheReason) {
  SOV_REQUIRE_TESTDATA(dir);
  auto v1 = File::open(dir + "/models/negative/tinyllamas-stories-260k-f32.gguf");
  ASSERT_FALSE(v1.is_ok());
  EXPECT_EQ(v1.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(v1.status().message().find("unsupported GGUF version 1"), std::string::npos);

  auto q8 = File::open(dir + "/models/negative/tinyllamas-stories-260k-q8_0.gguf");
  ASSERT_FALSE(q8.is_ok());
  EXPECT_EQ(q8.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(q8.status().message().find("tensor 'blk.0.ffn_down.weight' of type 8 (q8_0) has 172 elements "
                                       "per row, not a multiple of block size (32)"),
            std::string::npos)
      << q8.status().message();
}

TEST(GgufTestdata, TinyLlamaTensorTable) {
  SOV_REQUIRE_TESTDATA(dir);
  auto f = File::open(dir + "/models/TinyLLama-v0.Q4_0.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  std::map<TensorType, int> counts;
  for (const auto& t : f->tensors()) counts[t.info.type]++;
  EXPECT_EQ(f->tensors().size(), 75u);
  EXPECT_EQ(counts[TensorType::kQ4_0], 58);
  EXPECT_EQ(counts[TensorType::kF32], 17);
  const Tensor* embd = f->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->info.shape_string(), "[64, 32000]");
  EXPECT_EQ(embd->info.n_bytes, 32000u * 2 * 18);
  EXPECT_EQ(f->architecture(), "llama");
  EXPECT_EQ((*f->get_array("tokenizer.ggml.tokens"))->items.size(), 32000u);
}

}  // namespace
}  // namespace sov::gguf
