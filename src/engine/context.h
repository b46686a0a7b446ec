// An inference context: one sequence's KV cache and the buffers of the forward pass.
//
// decode() appends tokens to the sequence (positions n_past() ..), runs the model over them
// in micro-batches of n_batch tokens (matrix-matrix products), and keeps the logits of the
// last token, or of every token when asked. All buffers are allocated at create(); decoding
// one token at a time allocates nothing.
//
// A Context is used by one thread at a time; many Contexts may share one Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/model.h"
#include "engine/ops.h"
#include "kernels/matmul.h"

namespace sov::engine {

struct ContextParams {
  int32_t n_ctx = 0;     // 0: the smaller of 4096 and the model's trained context
  int32_t n_batch = 256;  // tokens per micro-batch of prompt processing
  int n_threads = 0;     // 0: physical cores
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model, ContextParams params);

  // Evaluates `tokens` after the n_past() tokens already in the cache. Fails without changing
  // the cache when a token id is out of range or the context would overflow.
  Status decode(std::span<const int32_t> tokens, bool all_logits = false);

  // Logits of the last decode: row i of the decoded tokens when all_logits was set, else
  // only the last token's (i = -1 or the last index).
  std::span<const float> logits(int i = -1) const;

  int32_t n_past() const { return n_past_; }
  int32_t n_ctx() const { return n_ctx_; }
  const Model& model() const { return *model_; }
  // Forgets cached positions >= n (n <= n_past), e.g. to reuse a shared prefix.
  void truncate(int32_t n);
  void reset() { truncate(0); }

 private:
  Context(std::shared_ptr<const Model> model, ContextParams params, int32_t n_ctx);
  // Runs one micro-batch; writes logits of all rows (all_rows) or of the last row to
  // logits_out, or none when logits_out is null.
  void forward(const int32_t* tokens, int n, float* logits_out, bool all_rows);
  void attention(int layer, int n, int32_t pos0);
  void linear(const Matrix& w, const float* x, int n, float* y);

  std::shared_ptr<const Model> model_;
  const HParams& hp_;
  int32_t n_ctx_;
  int32_t n_batch_;
  int32_t n_past_ = 0;
  ThreadPool pool_;
  kernels::Scratch scratch_;
  Rope rope_;

  // KV cache: per layer, n_ctx rows of n_embd_kv floats.
  std::vector<float> k_cache_, v_cache_;
  // Activations for one micro-batch.
  std::vector<float> x_, h_, q_, k_, v_, qkv_, att_, o_, gate_, up_, rope_tab_, scores_;
  std::vector<float> logits_;
  int32_t n_logits_ = 0;
};

// The default context length for a model: min(4096, trained context).
int32_t default_n_ctx(const HParams& hp);

}  // namespace sov::engine
