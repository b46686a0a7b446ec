// Text embeddings: a loaded embedding model with its tokenizer, turning texts into one vector
// each. This is the API the CLI and the server call. Any model loads: encoders (bert,
// nomic-bert) run through the Encoder, decoder architectures (llama, qwen2, ...) through an
// engine Context in embeddings mode (decoder_embedder.h: causal attention, last-token
// pooling unless the GGUF says otherwise).
//
//   auto model = EmbeddingModel::load("bge-small.gguf");
//   auto result = (*model)->embed({"first text", "second text"}, EmbedOptions{});
//   // result->embeddings[i]: n_embd floats (or `dimensions`), L2-normalised by default.
//
// Texts are tokenized with the model's own tokenizer ([CLS] ... [SEP] for WordPiece, BOS ...
// for decoders), packed into micro-batches of up to n_batch tokens and run together; each
// input attends only to itself and meets the same arithmetic wherever it sits in a batch, so
// its vector is the same however inputs are batched (bit-identical for encoders).
// Pooling comes from the GGUF (`<arch>.pooling_type`) unless the request overrides it.
// An input longer than the model's context is an error unless `truncate` is set; then its
// tokens are cut to the context, keeping the trailing special token ([SEP]).
//
// Thread-safety: every method is safe to call from several threads. Tokenization runs
// concurrently; forward passes are serialised on one internal mutex (one pool, one set of
// buffers), so a caller that wants fairness with other work should bound its batch sizes
// (or split its inputs over several embed() calls).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/encoder/embedding_backend.h"
#include "engine/encoder/encoder_model.h"
#include "engine/model.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace sov::engine {

struct EmbeddingModelParams {
  int n_threads = 0;       // 0: physical cores (ignored when `pool` is given)
  int32_t n_batch = 2048;  // tokens per forward pass (a longer single input still runs whole)
  // An encoder's pool to run on instead of an own one (not owned; must outlive the model).
  // The caller then guarantees that nothing else runs on it during embed(). Decoders
  // always run on their Context's own pool.
  ThreadPool* pool = nullptr;
  // Decoders: the longest input (0: min(4096, trained context)). Encoders always accept
  // their trained context.
  int32_t n_ctx = 0;
};

struct EmbedOptions {
  bool normalize = true;                          // L2-normalise each vector
  bool truncate = false;                          // cut inputs longer than the context instead of failing
  std::optional<Pooling> pooling = std::nullopt;  // overrides the model's pooling type
  int32_t dimensions = 0;  // keep the first `dimensions` values (before normalising); 0: all
};

struct EmbedResult {
  std::vector<std::vector<float>> embeddings;  // one per input, in input order
  std::vector<int32_t> n_tokens;               // tokens evaluated per input (after truncation)
  int64_t total_tokens = 0;                    // sum of n_tokens
};

class EmbeddingModel {
 public:
  static Result<std::unique_ptr<EmbeddingModel>> load(std::shared_ptr<const gguf::File> file,
                                                      EmbeddingModelParams params = {});
  // Opens and loads a GGUF file; errors are prefixed with the path.
  static Result<std::unique_ptr<EmbeddingModel>> load(const std::string& path,
                                                      EmbeddingModelParams params = {});

  // Loads a decoder model that is already loaded for generation (weights shared).
  static Result<std::unique_ptr<EmbeddingModel>> from_decoder(std::shared_ptr<const Model> model,
                                                              EmbeddingModelParams params = {});

  // True for encoder-only architectures (bert, nomic-bert): models that only embed.
  // Decoder architectures load too (they generate as well).
  static bool is_embedding_arch(std::string_view arch);

  // One vector per text. Errors (nothing is returned partially): an input over the context
  // without truncate (OutOfRange, naming the input), pooling `none`, dimensions out of range.
  // An empty list gives an empty result.
  Result<EmbedResult> embed(const std::vector<std::string>& texts, const EmbedOptions& options = {});
  // The same from token ids (e.g. OpenAI's token-array inputs); used as given, no special
  // tokens added; truncation simply cuts at the context.
  Result<EmbedResult> embed_tokens(const std::vector<std::vector<int32_t>>& inputs,
                                   const EmbedOptions& options = {});

  // Final hidden state of every token of one input: [n_tokens][n_embd].
  Result<std::vector<float>> token_states(const std::vector<int32_t>& tokens);

  // The ids embed() evaluates for a text, before truncation.
  std::vector<int32_t> tokenize(std::string_view text) const;
  // tokenize() for every text, then the context rule: an input over `limit` tokens (0 or
  // more than n_ctx(): n_ctx()) is cut (keeping the trailing special tokens, as embed() does)
  // when `truncate`, else an OutOfRange error naming it. The result is ready for
  // embed_tokens(), e.g. in chunks.
  Result<std::vector<std::vector<int32_t>>> tokenize_all(const std::vector<std::string>& texts, bool truncate,
                                                         int32_t limit = 0) const;

  int32_t n_embd() const { return backend_->n_embd(); }
  int32_t n_ctx() const { return backend_->n_ctx(); }
  Pooling pooling() const { return backend_->default_pooling(); }
  const std::string& arch() const { return backend_->arch(); }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  EmbeddingModel(std::unique_ptr<EmbeddingBackend> backend, std::unique_ptr<tokenizer::Tokenizer> tok,
                 EmbeddingModelParams params, std::unique_ptr<ThreadPool> own_pool);
  // Cuts ids to `limit` (0: the context), keeping the last `keep_tail` ids (trailing
  // special tokens).
  void truncate_ids(std::vector<int32_t>* ids, int32_t keep_tail, int32_t limit = 0) const;
  Result<EmbedResult> run(std::vector<std::vector<int32_t>> inputs, const EmbedOptions& options,
                          int32_t keep_tail);

  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  int32_t n_batch_;
  int32_t special_tail_ = 0;  // special tokens the tokenizer appends after the text ([SEP])

  std::mutex mutex_;                      // guards the backend and its pool
  std::unique_ptr<ThreadPool> own_pool_;  // encoders: null when the caller supplied one
  std::unique_ptr<EmbeddingBackend> backend_;
  std::vector<float> pooled_;  // [inputs of a micro-batch][n_embd]
};

}  // namespace sov::engine
