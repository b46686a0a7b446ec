// Embedder: what the knowledge base needs from an embedding model — vectors for texts and a
// token count for chunking. ModelEmbedder runs a local GGUF embedding model (bert,
// nomic-bert) through engine::EmbeddingModel; over-long texts are truncated to its context
// and vectors are L2-normalised.
//
// Thread-safety: embed() and count_tokens() may be called from several threads (the
// underlying model serialises forward passes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/encoder/embedding_model.h"
#include "store/config.h"

namespace sov::kb {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual int32_t dim() const = 0;
  virtual int32_t context() const = 0;  // tokens one input may hold
  virtual int32_t count_tokens(std::string_view text) const = 0;
  virtual Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) = 0;
};

class ModelEmbedder final : public Embedder {
 public:
  explicit ModelEmbedder(std::unique_ptr<engine::EmbeddingModel> model) : model_(std::move(model)) {}
  int32_t dim() const override { return model_->n_embd(); }
  int32_t context() const override { return model_->n_ctx(); }
  int32_t count_tokens(std::string_view text) const override;
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) override;

 private:
  std::unique_ptr<engine::EmbeddingModel> model_;
};

// Loads the model named by a command-line style argument: a .gguf path or a store name
// (store::resolve_model_argument). Refuses models that are not embedding models.
Result<std::unique_ptr<Embedder>> load_embedder(const std::string& model_argument,
                                                const store::EnvLookup& env, int n_threads = 0);

}  // namespace sov::kb
