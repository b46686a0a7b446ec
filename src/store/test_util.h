// Test helpers for the store tests: temporary directories and tiny GGUF files. Test-only.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "gguf/writer.h"

namespace sov::store::testing {

// A fresh directory under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("sov_store_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

// A valid GGUF file (llama metadata, one small F32 tensor) whose bytes depend on `seed`.
inline std::string tiny_gguf(int seed, int64_t context_length = 128) {
  gguf::Writer w;
  w.set("general.architecture", "llama");
  w.set("llama.context_length", static_cast<uint32_t>(context_length));
  w.set("llama.embedding_length", static_cast<uint32_t>(4));
  std::vector<float> values(16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(seed * 100 + static_cast<int>(i));
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size() * 4);
  (void)w.add_tensor("token_embd.weight", gguf::TensorType::kF32, {4, 4}, bytes);
  auto out = w.to_bytes();
  return std::string(out.begin(), out.end());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace sov::store::testing
