// The forward pass behind an EmbeddingModel: token ids in, one pooled vector per input out.
// Two implementations: EncoderBackend (bert, nomic-bert through the Encoder; in
// embedding_model.cpp) and DecoderEmbedder (any decoder architecture through an engine
// Context in embeddings mode; decoder_embedder.h).
//
// The caller (EmbeddingModel) tokenizes, truncates, splits inputs into micro-batches and
// normalises; a backend only runs a micro-batch and pools. Not thread-safe: one caller at a
// time (EmbeddingModel holds its mutex around every call).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/encoder/encoder_model.h"

namespace sov::engine {

class EmbeddingBackend {
 public:
  virtual ~EmbeddingBackend() = default;

  virtual int32_t n_embd() const = 0;
  // The longest input accepted.
  virtual int32_t n_ctx() const = 0;
  // The pooling used when a request does not choose one.
  virtual Pooling default_pooling() const = 0;
  virtual const std::string& arch() const = 0;

  // Runs every input (non-empty, at most n_ctx() ids, ids in the vocabulary: checked here
  // too) and writes input i's pooled, unnormalised vector to out[i * n_embd()].
  virtual Status pool(std::span<const std::vector<int32_t>> inputs, Pooling pooling, float* out) = 0;

  // Final hidden state of every token of one input: [n_tokens][n_embd].
  virtual Result<std::vector<float>> token_states(const std::vector<int32_t>& tokens) = 0;
};

}  // namespace sov::engine
