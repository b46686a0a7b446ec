// A read-only memory map of a whole file. Owns the mapping; move-only. The bytes stay
// valid for the object's lifetime. Concurrent reads from many threads are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace sov {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only. An empty file maps to an empty span. Errors name the path.
  static Result<MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole file into a string (for small text files); errors name the path.
Result<std::string> read_file(const std::string& path);
// Writes `data` to `path` through a temporary file and rename, so readers never see a
// half-written file.
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace sov
