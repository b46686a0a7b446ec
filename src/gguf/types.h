// GGML tensor types as stored in GGUF files: their numeric ids, names and block geometry.
// This is file-format knowledge only (how many bytes a row of N elements takes); the
// arithmetic of each format lives in quant/. Pure data, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sov::gguf {

// Ids are fixed by the file format (ggml's enum ggml_type). Gaps are removed types.
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

struct TypeTraits {
  std::string_view name;  // "q4_0", "f32", ...
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
};

// Traits of a type id read from a file, or nullopt when the id is unknown.
std::optional<TypeTraits> type_traits(uint32_t id);
inline TypeTraits traits(TensorType t) { return *type_traits(static_cast<uint32_t>(t)); }
std::string_view type_name(TensorType t);
// Parses "q4_0", "Q4_0", "f16", ... into a type; nullopt when unknown.
std::optional<TensorType> parse_type_name(std::string_view name);
// Bytes of a row of `n` elements, or nullopt when n is not a multiple of the block size.
std::optional<size_t> row_bytes(TensorType t, int64_t n);

}  // namespace sov::gguf
