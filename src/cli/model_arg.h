// The GGUF file a command-line MODEL argument names: a path to a .gguf file, or a model in
// the store (`sov generate -m llama3.2`, `sov bench -m hf.co/user/repo:Q4_K_M`), found
// through store::resolve_model_argument (SOV_MODELS and a read-only Ollama store).
// Errors are one line for cli::fail(). Header-only; for the sov executable.
#pragma once

#include <string>

#include "base/status.h"
#include "store/config.h"

namespace sov::cli {

inline Result<std::string> model_file(const std::string& arg) {
  SOV_ASSIGN_OR_RETURN(store::ResolvedModel model, store::resolve_model_argument(arg));
  return model.gguf_path;
}

}  // namespace sov::cli
