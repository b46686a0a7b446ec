#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sov {
namespace {

TEST(MappedFile, MapsWrittenFile) {
  auto dir = std::filesystem::temp_directory_path() / "sov_mapped_file_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "a.bin").string();
  ASSERT_TRUE(write_file_atomic(path, "hello world").is_ok());
  auto m = MappedFile::open(path);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data()), m->size()), "hello world");
  MappedFile moved = std::move(m).value();
  EXPECT_EQ(moved.size(), 11u);
  EXPECT_EQ(*read_file(path), "hello world");
  std::filesystem::remove_all(dir);
}

TEST(MappedFile, MissingFileAndDirectory) {
  auto m = MappedFile::open("/nonexistent/x.gguf");
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/x.gguf"), std::string::npos);
  auto d = MappedFile::open("/tmp");
  ASSERT_FALSE(d.is_ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sov
