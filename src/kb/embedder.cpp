#include "kb/embedder.h"

namespace sov::kb {

int32_t ModelEmbedder::count_tokens(std::string_view text) const {
  return static_cast<int32_t>(
      model_->tokenizer().encode(text, /*add_special=*/false, /*parse_special=*/false).size());
}

Result<std::vector<std::vector<float>>> ModelEmbedder::embed(const std::vector<std::string>& texts) {
  engine::EmbedOptions options;
  options.truncate = true;
  options.normalize = true;
  SOV_ASSIGN_OR_RETURN(engine::EmbedResult r, model_->embed(texts, options));
  return std::move(r.embeddings);
}

Result<std::unique_ptr<Embedder>> load_embedder(const std::string& model_argument,
                                                const store::EnvLookup& env, int n_threads) {
  SOV_ASSIGN_OR_RETURN(store::ResolvedModel resolved, store::resolve_model_argument(model_argument, env));
  auto model = engine::EmbeddingModel::load(resolved.gguf_path, {.n_threads = n_threads});
  if (!model) {
    return Status(model.status().code(),
                  "embedding model " + model_argument + ": " + model.status().message());
  }
  return std::unique_ptr<Embedder>(new ModelEmbedder(std::move(model).value()));
}

}  // namespace sov::kb
