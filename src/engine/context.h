// An inference context: the KV caches of n_seq sequences and the buffers of the forward pass.
//
// decode() appends tokens to sequence 0 (positions n_past() ..), runs the model over them in
// micro-batches of n_batch tokens (matrix-matrix products), and keeps the logits of the last
// token, or of every token when asked. decode_batch() does the same for tokens of several
// sequences at once: one forward pass, one weight read, for all of them (continuous
// batching); each sequence attends only to its own cache. All buffers are allocated at
// create(); decoding one token per sequence allocates nothing.
//
// A Context is used by one thread at a time; many Contexts may share one Model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/kv_type.h"
#include "engine/model.h"
#include "engine/ops.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"

namespace sov::engine {

struct ContextParams {
  int32_t n_ctx = 0;      // positions per sequence; 0: the smaller of 4096 and the trained context
  int32_t n_batch = 256;  // tokens per micro-batch of prompt processing
  int n_threads = 0;      // 0: physical cores
  int32_t n_seq = 1;      // sequences, each with its own KV cache of n_ctx positions
  KvType kv_type = KvType::kF32;
  // Embeddings mode: rows that want output keep their final hidden state (after the output
  // norm, n_embd floats; read with batch_embedding()) and no logits are computed.
  bool embeddings = false;
};

// One token of a multi-sequence batch.
struct BatchToken {
  int32_t seq = 0;
  int32_t token = 0;
  bool want_logits = false;
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

  // Appends each token to its sequence, in order, and evaluates them all in one pass per
  // micro-batch. Fails without changing any cache on a bad sequence or token id, or when a
  // sequence would overflow its context.
  Status decode_batch(std::span<const BatchToken> batch);
  // Logits of entry i of the last decode_batch; empty unless that entry wanted logits.
  // Both logits accessors return empty spans in embeddings mode.
  std::span<const float> batch_logits(size_t i) const;
  // Embeddings mode: the final hidden state (n_embd floats) of entry i of the last
  // decode_batch; empty unless that entry wanted output.
  std::span<const float> batch_embedding(size_t i) const;

  int32_t n_past(int seq = 0) const { return n_past_[seq]; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_seq() const { return static_cast<int32_t>(n_past_.size()); }
  // Bytes reserved for the keys and values of all sequences (pages become resident as
  // positions are written).
  size_t kv_cache_bytes() const {
    return 2 * kv_type_bytes(kv_type_) * static_cast<size_t>(hp_.n_layer) * n_past_.size() *
           static_cast<size_t>(n_ctx_) * static_cast<size_t>(hp_.n_embd_kv());
  }
  const Model& model() const { return *model_; }
  // Forgets cached positions >= n of a sequence (n <= n_past), e.g. to reuse a shared prefix.
  void truncate(int seq, int32_t n);
  void truncate(int32_t n) { truncate(0, n); }
  void reset() { truncate(0, 0); }

 private:
  Context(std::shared_ptr<const Model> model, ContextParams params, int32_t n_ctx);
  // Runs the n rows staged in row_token_/row_seq_/row_pos_/row_out_. Rows with row_out_ >= 0
  // get logits; those rows have consecutive output indices starting at the first one.
  void forward(int n);
  void attention(int layer, int n);
  // Moves the rows that want logits to the front (in order); returns how many there are.
  int keep_output_rows(int n);
  // fn(t) for t in [0, n), split over the pool's threads.
  template <typename Fn>
  void for_rows(int n, Fn&& fn);
  // Zero-initialised storage whose pages become resident only when written (large callocs
  // are fresh mappings), so a long context costs memory only as far as it is used.
  struct LazyBytes {
    std::unique_ptr<std::byte, void (*)(void*)> data{nullptr, std::free};
    std::byte* get() const { return data.get(); }
  };
  // The key or value of one KV head at one position (head_dim elements of kv_type_). Layout
  // [layer][seq][kv head][pos][head_dim]: the positions one attention block reads are
  // contiguous, so the hardware prefetchers stream them.
  std::byte* cache_at(const LazyBytes& cache, int layer, int seq, int kv_head, int32_t pos);
  // Writes head_dim floats into the cache at `dst`, rounded to kv_type_.
  void store_kv(const float* src, std::byte* dst) const;
  void linear(const Matrix& w, const float* x, int n, float* y);
  // Floats per output row: n_vocab (logits) or n_embd (embeddings mode).
  size_t out_width() const { return static_cast<size_t>(embeddings_ ? hp_.n_embd : hp_.n_vocab); }

  std::shared_ptr<const Model> model_;
  const HParams& hp_;
  int32_t n_ctx_;
  int32_t n_batch_;
  bool embeddings_;
  KvType kv_type_;
  std::vector<int32_t> n_past_;  // per sequence
  ThreadPool pool_;
  kernels::Scratch scratch_;
  Rope rope_;

  // KV cache: [n_layer][n_seq][n_kv_head][n_ctx][head_dim] elements of kv_type_.
  LazyBytes k_cache_, v_cache_;
  // Activations for one micro-batch.
  std::vector<float> x_, h_, q_, k_, v_, qkv_, att_, o_, gate_, up_, rope_tab_;
  // Attention: per-thread kernel scratch, rows grouped by sequence, and the blocks to run.
  struct AttnJob {
    int row_begin, n_rows, kv_head, head_begin, n_heads;
  };
  std::vector<float> attn_scratch_;
  std::vector<int> seq_count_;
  std::vector<int> attn_rows_;
  std::vector<AttnJob> attn_jobs_;
  std::vector<float> logits_;  // output rows of out_width() floats
  int32_t n_logits_ = 0;
  std::vector<int32_t> batch_rows_;   // per decode_batch entry: its logits row, or -1
  std::vector<int32_t> batch_added_;  // decode_batch: tokens added per sequence
  // The rows of the current micro-batch.
  std::vector<int32_t> row_token_, row_seq_, row_pos_, row_out_;
};

// The default context length for a model: min(4096, trained context).
int32_t default_n_ctx(const HParams& hp);

}  // namespace sov::engine
