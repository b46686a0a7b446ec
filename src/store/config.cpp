#include "store/config.h"

#include <cstdlib>

#include "store/fs_util.h"

namespace sov::store {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

StoreOptions store_options_from_env(const EnvLookup& env) {
  StoreOptions o;
  const std::string home = env("HOME").value_or("");
  auto models = env("SOV_MODELS");
  o.root = models && !models->empty() ? *models : home + "/.sovereign/models";
  if (auto ollama = env("SOV_OLLAMA_MODELS")) {
    if (!ollama->empty()) o.read_only_roots.push_back(*ollama);
  } else if (auto theirs = env("OLLAMA_MODELS"); theirs && !theirs->empty()) {
    o.read_only_roots.push_back(*theirs);
  } else if (!home.empty() && is_directory(home + "/.ollama/models")) {
    o.read_only_roots.push_back(home + "/.ollama/models");
  }
  o.registry = env("SOV_REGISTRY").value_or("");
  return o;
}

Result<ResolvedModel> resolve_model_argument(std::string_view text, const EnvLookup& env) {
  return Store(store_options_from_env(env)).resolve_name_or_path(text);
}

}  // namespace sov::store
