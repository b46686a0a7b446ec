// The scalar reference forward pass: the oracle every optimized path is tested against.
//
// Written to be read top to bottom, llama2.c style: weights dequantized once to float,
// one token per step, plain loops with double accumulators, its own norm / RoPE / attention
// code (nothing shared with the optimized path except weight dequantization). Slow by
// design; used by tests and `sov eval --reference`. One thread; one sequence per object.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model.h"

namespace sov::engine {

class ReferenceForward {
 public:
  ReferenceForward(const Model& model, int32_t n_ctx);
  // Feeds `token` at the next position and returns the logits [n_vocab]; returns an empty
  // vector when the context is full or the token is out of range.
  std::vector<float> step(int32_t token);
  int32_t n_past() const { return pos_; }

 private:
  struct DenseMatrix {
    std::vector<float> w;  // n_out rows of n_in
    int64_t n_in = 0, n_out = 0;
  };
  struct Layer {
    DenseMatrix wq, wk, wv, wo, gate, up, down;
  };
  static DenseMatrix dense(const Matrix& m);
  static DenseMatrix rows(const DenseMatrix& m, int64_t first, int64_t count);
  static void matvec(const DenseMatrix& m, const float* x, float* y);
  void rope(float* head, int32_t pos) const;

  const Model& model_;
  const HParams& hp_;
  int32_t n_ctx_;
  int32_t pos_ = 0;
  DenseMatrix embd_, output_;
  std::vector<Layer> layers_;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [n_ctx][n_embd_kv]
};

}  // namespace sov::engine
