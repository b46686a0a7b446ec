// Text embeddings: a loaded embedding model (bert, nomic-bert) with its tokenizer, turning
// texts into one vector each. This is the API the CLI and the server call.
//
//   auto model = EmbeddingModel::load("bge-small.gguf");
//   auto result = (*model)->embed({"first text", "second text"}, EmbedOptions{});
//   // result->embeddings[i]: n_embd floats (or `dimensions`), L2-normalised by default.
//
// Texts are tokenized with the model's own tokenizer ([CLS] ... [SEP] for WordPiece), packed
// into micro-batches of up to n_batch tokens and run through the encoder together; each
// input attends only to itself and meets the same arithmetic wherever it sits in a batch, so
// its vector is bit-identical however inputs are batched.
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
#include "engine/encoder/encoder.h"
#include "engine/encoder/encoder_model.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace sov::engine {

struct EmbeddingModelParams {
  int n_threads = 0;       // 0: physical cores (ignored when `pool` is given)
  int32_t n_batch = 2048;  // tokens per forward pass (a longer single input still runs whole)
  // A pool to run on instead of an own one (not owned; must outlive the model). The caller
  // then guarantees that nothing else runs on it during embed() (e.g. a scheduler that
  // interleaves embedding jobs with decode steps on one pool).
  ThreadPool* pool = nullptr;
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

  // True when the file's architecture is one load() accepts.
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

  int32_t n_embd() const { return model_->n_embd(); }
  int32_t n_ctx() const { return model_->n_ctx(); }
  Pooling pooling() const { return model_->hparams().pooling; }
  const std::string& arch() const { return model_->hparams().base.arch; }
  const EncoderModel& encoder_model() const { return *model_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  EmbeddingModel(std::shared_ptr<const EncoderModel> model, std::unique_ptr<tokenizer::Tokenizer> tok,
                 EmbeddingModelParams params);
  // Cuts ids to the context, keeping the last `keep_tail` ids (trailing special tokens).
  void truncate_ids(std::vector<int32_t>* ids, int32_t keep_tail) const;
  Result<EmbedResult> run(std::vector<std::vector<int32_t>> inputs, const EmbedOptions& options,
                          int32_t keep_tail);

  std::shared_ptr<const EncoderModel> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  int32_t n_batch_;
  int32_t special_tail_ = 0;  // special tokens the tokenizer appends after the text ([SEP])

  std::mutex mutex_;                      // guards the pool's use and encoder_
  std::unique_ptr<ThreadPool> own_pool_;  // null when the caller supplied one
  Encoder encoder_;
};

}  // namespace sov::engine
