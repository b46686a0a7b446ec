// GGUF writer: builds a GGUF v3 (or v2) file from metadata and tensors. Files it writes are
// read back identically by gguf::File. Used by tests, synthetic models, `sov create` and
// `sov quantize`. Not thread-safe; build from one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/file.h"

namespace sov::gguf {

class Writer {
 public:
  // Sets a key; an existing key keeps its position and gets the new value.
  void set(const std::string& key, Value value);
  void set_version(uint32_t version) { version_ = version; }  // 2 or 3
  // Alignment of tensor data; also written as general.alignment when not 32.
  void set_alignment(uint32_t alignment) { alignment_ = alignment; }

  // Adds a tensor with shape ne[0] (row length) first. `data` must hold exactly the
  // tensor's byte size; it is copied. Fails on a duplicate name, a bad shape, a row length
  // that is not a multiple of the type's block size, or a size mismatch.
  Status add_tensor(const std::string& name, TensorType type, std::vector<int64_t> shape,
                    std::span<const uint8_t> data);
  // Same, but the bytes are not copied: they must outlive the Writer.
  Status add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> shape,
                         std::span<const uint8_t> data);

  std::vector<uint8_t> to_bytes() const;
  // Writes through a temporary file and rename.
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    TensorInfo info;
    std::vector<uint8_t> owned;
    std::span<const uint8_t> view;
  };
  Status check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                      size_t data_size, TensorInfo* info) const;

  uint32_t version_ = 3;
  uint32_t alignment_ = kDefaultAlignment;
  std::vector<KeyValue> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace sov::gguf
