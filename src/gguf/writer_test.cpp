#include "gguf/writer.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sov::gguf {
namespace {

TEST(GgufWriter, WritesFileReadBackFromDisk) {
  auto dir = std::filesystem::temp_directory_path() / "sov_gguf_writer_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "m.gguf").string();
  Writer w;
  w.set("general.architecture", "test");
  std::vector<uint8_t> q8(34 * 2, 0);  // two Q8_0 blocks: one row of 64
  ASSERT_TRUE(w.add_tensor("q", TensorType::kQ8_0, {64, 1}, q8).is_ok());
  ASSERT_TRUE(w.write(path).is_ok());
  auto f = File::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f->architecture(), "test");
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(f->tensors()[0].info.type, TensorType::kQ8_0);
  EXPECT_EQ(f->tensors()[0].info.n_bytes, 68u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sov::gguf
