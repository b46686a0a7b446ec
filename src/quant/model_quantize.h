// Whole-model quantization, as `llama-quantize IN OUT TYPE` does it without an importance
// matrix: choose a type per tensor by llama.cpp's rules (the _S/_M/_L mixes give some
// tensors more bits, 1-D tensors and norms stay F32), convert every tensor with the
// reference quantizers of quant.h, copy all metadata and set general.file_type and
// general.quantization_version. Tensors are written in llama-quantize's order (non-layer
// tensors by name, then each layer's by name), so outputs match its files byte for byte
// (verified on the synthetic test models).
//
// Rules follow llama.cpp's llama_tensor_get_type at commit c392e50, with one difference:
// where a Q2_K/Q3_K tensor's rows are not a multiple of 256, llama.cpp falls back to
// IQ4_NL, which Sovereign does not implement; we fall back to Q4_0 (same size).
//
// Thread-safety: plan_quantization is pure; quantize_model uses `pool` for row-parallel
// conversion and must not share it with a concurrent parallel_for.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/file.h"
#include "gguf/types.h"

namespace sov::quant {

// llama.cpp's llama_ftype values, stored in general.file_type.
enum class FileType : uint32_t {
  kAllF32 = 0,
  kMostlyF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kMostlyBF16 = 32,
};

// "Q4_K_M", "q4_k_m", "F16", ... (the names llama-quantize accepts); nullopt if unknown.
std::optional<FileType> parse_file_type(std::string_view name);
std::string_view file_type_name(FileType t);
// Every supported name, for help texts.
std::vector<std::string_view> file_type_names();

struct TensorPlan {
  std::string name;
  gguf::TensorType from;
  gguf::TensorType to;    // == from when the tensor is copied unchanged
  bool fallback = false;  // `to` replaced the recipe's type because rows did not fit its blocks
};

// The type of every tensor of `in` under file type `ft`, in output order.
Result<std::vector<TensorPlan>> plan_quantization(const gguf::File& in, FileType ft);

struct QuantizeOptions {
  FileType type = FileType::kQ4_K_M;
  // Re-quantizing already quantized tensors loses precision twice; refused unless set.
  bool allow_requantize = false;
  ThreadPool* pool = nullptr;  // null: run on the caller
  // Called after each tensor: (index, count, plan entry).
  std::function<void(size_t, size_t, const TensorPlan&)> progress;
};

// Reads `in_path`, writes the quantized model to `out_path` (through a temporary file).
Status quantize_model(const std::string& in_path, const std::string& out_path,
                      const QuantizeOptions& options);

}  // namespace sov::quant
