// The forward pass of an EncoderModel over a packed batch of sequences.
//
// All tokens of all sequences go through each weight matrix together (one matrix-matrix
// product per weight and layer); attention is computed per (sequence, head, block of
// queries), each sequence seeing only its own tokens, so a batch gives the same states as
// the sequences one by one. Positions restart at 0 in every sequence.
//
// Threads: matmuls split output rows over the pool; attention and the per-token steps split
// their jobs over it. Each sequence starts on an aligned row so that its arithmetic does
// not depend on its neighbours: a batch is bit-identical to its sequences alone. Buffers grow to the largest
// batch seen and are then reused, so a steady stream of same-sized batches allocates nothing.
//
// An Encoder is used by one thread at a time, and nobody else may use its pool during
// forward(); many Encoders may share one EncoderModel.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/encoder/encoder_model.h"
#include "engine/ops.h"
#include "kernels/matmul.h"

namespace sov::engine {

// One sequence of a batch. token_types is empty (type 0 everywhere) or one per token.
struct EncoderSequence {
  std::span<const int32_t> tokens;
  std::span<const int32_t> token_types;
};

class Encoder {
 public:
  // pool may be null: everything then runs on the calling thread.
  Encoder(std::shared_ptr<const EncoderModel> model, ThreadPool* pool);

  // Runs every sequence in one pass. Fails without running anything when the batch is empty,
  // a sequence is empty or longer than the model's context, or an id or type is out of range.
  Status forward(std::span<const EncoderSequence> seqs);

  // Final hidden states of the last forward: n_rows() rows of n_embd floats. Sequence i has
  // seq_len(i) rows from seq_start(i); rows between sequences are padding.
  int64_t n_rows() const { return n_rows_; }
  const float* state(int64_t row) const { return &x_[static_cast<size_t>(row) * model_->n_embd()]; }
  int64_t seq_start(size_t i) const { return seq_start_[i]; }
  int64_t seq_len(size_t i) const { return seq_len_[i]; }

  const EncoderModel& model() const { return *model_; }

 private:
  void reserve(int64_t n_rows, int32_t max_len);
  void embed();
  void layer(int l);
  void attention();
  void linear(const Matrix& w, const std::vector<float>& bias, const float* x, float* y);
  // fn(begin, end) over rows [0, n), split over the pool when there is one.
  template <typename Fn>
  void for_rows(int64_t n, Fn&& fn);
  const float* rope_table(int32_t pos);

  std::shared_ptr<const EncoderModel> model_;
  const EncoderHParams& hp_;
  ThreadPool* pool_;
  kernels::Scratch scratch_;
  Rope rope_;

  // The current batch.
  int64_t n_rows_ = 0;
  std::vector<int64_t> seq_start_, seq_len_;
  std::vector<int32_t> row_token_, row_type_, row_pos_;
  int32_t max_len_ = 0;

  // Activations, [n_rows][width] unless noted.
  std::vector<float> x_, o_, q_, k_, v_, qkv_, att_, up_, gate_;
  std::vector<float> qh_, kh_;       // [head][row][head_dim], q pre-scaled
  std::vector<float> vt_;            // [kv head][head_dim][row]: V transposed for the P·V product
  std::vector<float> attn_scratch_;  // per pool thread: scores and one output block
  std::vector<float> rope_cache_;    // [pos][n_rot], grown on demand
  int32_t rope_cached_ = 0;
  struct AttnJob {
    int64_t start;  // first row of the sequence
    int32_t len;    // its length
    int32_t head;
    int32_t q0, q1;  // query block within the sequence
  };
  std::vector<AttnJob> jobs_;
};

// LayerNorm: out = (x - mean) / sqrt(var + eps) * w + b; b may be null; out may alias x.
void layer_norm(const float* x, const float* w, const float* b, int n, float eps, float* out);

}  // namespace sov::engine
