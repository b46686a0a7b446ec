// Modelfiles (Ollama's recipe format for `sov create NAME -f Modelfile`):
//
//   # comment
//   FROM llama3.2            (a store name, or a path to a .gguf file; required, once)
//   PARAMETER temperature 0.7
//   PARAMETER stop "<|eot_id|>"   (stop may repeat)
//   TEMPLATE """{{ .Prompt }}"""
//   SYSTEM You are terse.
//   MESSAGE user Hello        (roles: system, user, assistant)
//   LICENSE """MIT ..."""     (may repeat)
//
// Commands are case-insensitive. A value is the rest of the line (trailing blanks dropped),
// or "..." (escapes \" and \\, may span lines), or """...""" (raw, may span lines).
// ADAPTER is refused (LoRA adapters are not supported). Errors name the line.
// Parameters are type-checked here (see params.h).
//
// format_modelfile writes a Modelfile that parses back to an equal Modelfile.
// Pure functions; plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sov::store {

inline constexpr size_t kMaxModelfileBytes = 16u << 20;

struct ChatMessage {
  std::string role;
  std::string content;
  friend bool operator==(const ChatMessage&, const ChatMessage&) = default;
};

struct Modelfile {
  std::string from;
  std::vector<std::pair<std::string, std::string>> parameters;  // as written, in order
  std::optional<std::string> template_text;
  std::optional<std::string> system;
  std::vector<std::string> licenses;
  std::vector<ChatMessage> messages;
  friend bool operator==(const Modelfile&, const Modelfile&) = default;
};

Result<Modelfile> parse_modelfile(std::string_view text);
std::string format_modelfile(const Modelfile& modelfile);

}  // namespace sov::store
