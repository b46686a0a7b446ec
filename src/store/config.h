// StoreOptions from the environment, for program entry points only (the CLI, `sov serve`);
// nothing below them reads the environment.
//
//   SOV_MODELS         the writable store            (default ~/.sovereign/models)
//   SOV_OLLAMA_MODELS  an Ollama store to read in place; "" disables it
//                      (default: $OLLAMA_MODELS, else ~/.ollama/models when it exists)
//   SOV_REGISTRY       registry base URL used for every pull (mirrors, tests)
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "store/store.h"

namespace sov::store {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// std::getenv.
EnvLookup process_environment();
StoreOptions store_options_from_env(const EnvLookup& env);

// What a command-line MODEL argument means: a path to a .gguf file, or a model name in the
// store configured by `env` (e.g. `sov generate -m llama3.2`). Local use only: paths are
// accepted. The GGUF file is ResolvedModel::gguf_path.
Result<ResolvedModel> resolve_model_argument(std::string_view text,
                                             const EnvLookup& env = process_environment());

}  // namespace sov::store
