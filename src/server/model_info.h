// ModelInfo: what the listing endpoints say about a GGUF file (Ollama's `details`, the
// sha256 digest, metadata for /api/show), read from the file's header and cached by
// (path, size, modification time) so that listing a folder of large models is cheap after
// the first time (hashing a multi-GB file takes seconds).
//
// ModelInfoCache is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "gguf/file.h"
#include "server/model_resolver.h"

namespace sov::server {

struct ModelInfo {
  std::string family;              // general.architecture
  std::string parameter_size;      // "260K", "1.1B", "7.2B"
  std::string quantization_level;  // "Q4_0", "F16", ...
  uint64_t n_params = 0;
  int64_t context_length = 0;  // trained context, 0 when unknown
  std::string digest;          // sha256 hex of the whole file
  std::string chat_template;   // "" when the file has none
  bool has_fim = false;        // fill-in-the-middle tokens present
};

// Ollama's `details` object.
nlohmann::json details_json(const ModelInfo& info);

// "260K", "15M", "1.1B", "7.2B" (Ollama's style).
std::string format_parameter_count(uint64_t n);

// Reads everything but the digest from an open file.
ModelInfo read_model_info(const gguf::File& file);

// sha256 of a file as lowercase hex.
Result<std::string> sha256_file(const std::string& path);

// Metadata as JSON for /api/show `model_info`; arrays longer than 64 entries are replaced
// by [] unless verbose (as Ollama does for the vocabulary).
nlohmann::json metadata_json(const gguf::File& file, bool verbose);

class ModelInfoCache {
 public:
  // Info with digest; computed on first use, then cached while size and mtime are unchanged.
  Result<ModelInfo> get(const ModelEntry& entry);

 private:
  struct Cached {
    uint64_t size = 0;
    std::chrono::system_clock::time_point modified;
    ModelInfo info;
  };
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

}  // namespace sov::server
