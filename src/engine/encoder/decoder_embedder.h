// Decoder models (llama, qwen2, qwen3, gemma2, phi3, ...) as embedding models: the final
// hidden state (after the output norm, before the output matrix) of an engine Context in
// embeddings mode, pooled per input. This is what llama.cpp does for decoder embedders
// (Qwen3-Embedding, e5-mistral, gte-Qwen2) and what Ollama serves for /api/embed on a chat
// model.
//
// Attention stays causal (the engine's only mode), so the last token is the only one that
// has seen the whole input: pooling defaults to `last` unless the GGUF's
// `<arch>.pooling_type` says otherwise (mean and cls work too).
//
// Batching: the Context has n_seq sequences; up to n_seq inputs go into one decode_batch
// (packed rows, each input attending only to its own KV cache, positions from 0), larger
// groups run in several passes. Each input's caches are reset before it runs, so nothing
// carries over between calls.
//
// Not thread-safe (one caller at a time); the model may be shared with other Contexts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/encoder/embedding_backend.h"
#include "engine/model.h"

namespace sov::engine {

struct DecoderEmbedderParams {
  int n_threads = 0;      // 0: physical cores
  int32_t n_ctx = 0;      // longest input; 0: min(4096, trained context)
  int32_t n_batch = 512;  // rows per forward pass
  int32_t n_seq = 8;      // inputs per decode_batch (fewer when their KV caches would be huge)
};

class DecoderEmbedder final : public EmbeddingBackend {
 public:
  static Result<std::unique_ptr<DecoderEmbedder>> create(std::shared_ptr<const Model> model,
                                                         DecoderEmbedderParams params = {});

  int32_t n_embd() const override { return model_->hparams().n_embd; }
  int32_t n_ctx() const override { return ctx_->n_ctx(); }
  Pooling default_pooling() const override { return pooling_; }
  const std::string& arch() const override { return model_->hparams().arch; }
  Status pool(std::span<const std::vector<int32_t>> inputs, Pooling pooling, float* out) override;
  Result<std::vector<float>> token_states(const std::vector<int32_t>& tokens) override;

 private:
  DecoderEmbedder(std::shared_ptr<const Model> model, std::unique_ptr<Context> ctx, Pooling pooling)
      : model_(std::move(model)), ctx_(std::move(ctx)), pooling_(pooling) {}
  // Runs inputs[first, first + count) (count <= n_seq) in one decode_batch.
  Status run_group(std::span<const std::vector<int32_t>> group, Pooling pooling, float* out);

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Context> ctx_;
  Pooling pooling_;
  std::vector<BatchToken> batch_;  // reused between calls
  std::vector<double> sum_;        // mean-pooling accumulator
};

}  // namespace sov::engine
