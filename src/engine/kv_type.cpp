#include "engine/kv_type.h"

#include <fmt/format.h>

#include <cctype>
#include <string>

namespace sov::engine {

Result<KvType> parse_kv_type(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "f32") return KvType::kF32;
  if (lower == "f16") return KvType::kF16;
  return Status::invalid_argument(fmt::format("'{}' is not f16 or f32", name));
}

const char* kv_type_name(KvType t) {
  return t == KvType::kF16 ? "f16" : "f32";
}

}  // namespace sov::engine
