// Model names: "[host/][namespace/]model[:tag]" with Ollama's defaults (registry.ollama.ai,
// library, latest), e.g. "llama3.2", "llama3.2:1b", "user/model:q4", "hf.co/user/repo:Q4_K_M",
// "127.0.0.1:5000/library/tiny:v1". A parsed ModelName is safe to use as path components
// under the store: every part is validated character by character before anything touches
// the file system (no '/', '\\', '%', "..", control bytes; bounded lengths).
//
// Rules (Ollama's, slightly stricter):
//   host       [A-Za-z0-9][A-Za-z0-9._-]* with an optional ":port", at most 253 characters;
//              stored lowercase
//   namespace  [A-Za-z0-9_][A-Za-z0-9_-]*, at most 128 characters
//   model      [A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters
//   tag        [A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters
//   no part contains "..". Names compare case-insensitively (as in Ollama).
//
// Pure functions; plain values.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::store {

inline constexpr std::string_view kDefaultHost = "registry.ollama.ai";
inline constexpr std::string_view kDefaultNamespace = "library";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kMaxNameLength = 512;

struct ModelName {
  std::string host;
  std::string ns;
  std::string model;
  std::string tag;

  // "registry.ollama.ai/library/llama3.2:latest"
  std::string full() const;
  // The shortest form that parses back to the same name, always with its tag:
  // "llama3.2:latest", "user/model:v1", "hf.co/user/repo:Q4_K_M".
  std::string display() const;
  // Case-insensitive equality of every part.
  bool same_as(const ModelName& other) const;
};

// Parses and validates a store name (no file paths). kInvalidArgument names what is wrong.
Result<ModelName> parse_model_name(std::string_view text);

// True when `text` is meant as a path to a GGUF file rather than a store name: it starts
// with '/', "./", "../" or "~/", or it contains a '/' and ends with ".gguf". (A bare
// "x.gguf" is a valid model name; callers that accept paths check for the file first.)
bool looks_like_path(std::string_view text);

// Compares ASCII case-insensitively.
bool equals_fold(std::string_view a, std::string_view b);

}  // namespace sov::store
