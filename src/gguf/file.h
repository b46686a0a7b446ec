// GGUF reader: parses and validates a GGUF v2/v3 file and exposes its metadata and tensors.
//
// Files come from strangers, so parsing is defensive: every count, length and offset is
// checked against the bytes actually present before anything is allocated or read, and
// anything malformed is refused with a Status (kind kCorrupt or kUnsupported) whose message
// names what is wrong and where (byte offset, key or tensor name). Tensor data is not
// copied: Tensor::data points into the memory-mapped file owned by the File.
//
// A File is immutable after open/parse; concurrent reads from many threads are safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "gguf/types.h"
#include "gguf/value.h"

namespace sov::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
  std::string name;
  TensorType type = TensorType::kF32;
  int n_dims = 0;
  // ne[0] is the contiguous row length; unused dimensions are 1.
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  uint64_t offset = 0;  // relative to the start of the data section
  size_t n_bytes = 0;

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  // "[64, 512]": the used dimensions, ne[0] first.
  std::string shape_string() const;
};

struct Tensor {
  TensorInfo info;
  const uint8_t* data = nullptr;  // n_bytes bytes, valid for the File's lifetime
};

struct KeyValue {
  std::string key;
  Value value;
};

class File {
 public:
  // Maps and parses a file. Errors are prefixed with the path.
  static Result<File> open(const std::string& path);
  // Parses bytes that stay owned by the caller and must outlive the File (fuzzing, tests).
  static Result<File> parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  size_t file_size() const { return bytes_.size(); }

  // Metadata in file order.
  const std::vector<KeyValue>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  // Typed accessors: NotFound when absent, Corrupt when present with the wrong type.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<const Array*> get_array(std::string_view key) const;
  // The architecture name (general.architecture), or "" when absent.
  std::string architecture() const;

  // Tensors in file order.
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const Tensor* find_tensor(std::string_view name) const;

 private:
  File() = default;
  friend class Parser;

  std::shared_ptr<MappedFile> mapping_;  // null when parsing caller-owned bytes
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace sov::gguf
