// libFuzzer target: the TOML subset parser and the routing config reader must accept or
// refuse any byte string without crashing, refusals must name a line, and every string they
// accept must be valid UTF-8 (the config feeds regexes and HTTP headers).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/utf8.h"
#include "router/config.h"
#include "router/toml.h"

namespace {

void check_strings(const sov::router::toml::Value& v, int depth) {
  if (depth > 64) __builtin_trap();
  if (v.is_string() && !sov::utf8::is_valid(v.as_string())) __builtin_trap();
  if (v.is_table() && v.keys().size() != v.values().size()) __builtin_trap();
  for (const auto& k : v.keys()) {
    if (!sov::utf8::is_valid(k)) __builtin_trap();
  }
  for (const auto& child : v.items()) check_strings(child, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = sov::router::toml::parse(text);
  if (doc.is_ok()) {
    check_strings(*doc, 0);
  } else if (doc.status().message().rfind("line ", 0) != 0 &&
             doc.status().message() != "the file is not valid UTF-8") {
    __builtin_trap();
  }
  auto config = sov::router::parse_config(text, [](const std::string&) { return std::nullopt; });
  if (config.is_ok() && !doc.is_ok()) __builtin_trap();
  return 0;
}
