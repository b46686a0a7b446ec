// What `sov show` and a model's config blob say about a GGUF file: architecture, parameter
// count, quantization, context length (Ollama's "details"). Reads the header only; the
// tensor data is memory-mapped, not read. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/file.h"

namespace sov::store {

struct ModelDetails {
  std::string format = "gguf";
  std::string family;              // general.architecture
  std::string parameter_size;      // "260K", "1.1B"
  std::string quantization_level;  // "Q4_0", "F16", ...
  uint64_t n_params = 0;
  int64_t context_length = 0;    // 0 when unknown
  int64_t embedding_length = 0;  // 0 when unknown
};

ModelDetails model_details(const gguf::File& file);
// Opens the file; errors name the path.
Result<ModelDetails> read_model_details(const std::string& gguf_path);

// "260K", "15M", "1.1B" (Ollama's style).
std::string format_parameter_count(uint64_t n);

}  // namespace sov::store
