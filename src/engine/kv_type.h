// Element type of the KV cache. F32 keeps keys and values exact (the reference outputs and
// the engine's tests use it); F16 halves the cache's memory and the attention's memory
// traffic (llama.cpp's and Ollama's default) at half-precision rounding of keys and values.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace sov::engine {

enum class KvType { kF32, kF16 };

// "f32" / "f16" (case-insensitive); InvalidArgument "'NAME' is not f16 or f32" otherwise.
Result<KvType> parse_kv_type(std::string_view name);
const char* kv_type_name(KvType t);
inline size_t kv_type_bytes(KvType t) {
  return t == KvType::kF16 ? 2 : 4;
}

}  // namespace sov::engine
