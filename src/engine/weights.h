// The weights of a decoder model, bound by name and shape from a GGUF file.
//
// Matrices stay in the memory-mapped file (kernels::WeightView points into it); 1-D tensors
// (norms, biases, rope factors) are copied to float vectors at load. A weight that an
// architecture does not have is left empty (`present()` false); the forward pass uses what
// is present, so one decoder serves every architecture. Immutable after load; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "gguf/file.h"
#include "kernels/matmul.h"

namespace sov::engine {

struct Matrix {
  kernels::WeightView view{gguf::TensorType::kF32, nullptr, 0, 0, 0};
  bool present() const { return view.data != nullptr; }
};

struct LayerWeights {
  std::vector<float> attn_norm;
  Matrix wq, wk, wv;   // separate projections, or
  Matrix wqkv;         // fused: rows Q, then K, then V
  std::vector<float> bq, bk, bv;  // optional biases
  std::vector<float> q_norm, k_norm;  // optional per-head RMSNorm weights [head_dim]
  Matrix wo;
  std::vector<float> post_attn_norm;  // optional
  std::vector<float> ffn_norm;
  Matrix ffn_gate, ffn_up, ffn_down;  // ffn_gate absent: ffn_up is fused [gate; up]
  std::vector<float> post_ffn_norm;   // optional
};

struct ModelWeights {
  Matrix token_embd;  // n_vocab rows of n_embd
  std::vector<float> output_norm;
  Matrix output;  // the token_embd view when the output is tied
  std::vector<float> rope_freqs;  // optional per-pair frequency divisors [n_rot / 2]
  std::vector<LayerWeights> layers;
};

// Looks tensors up by name, checks shape and type, and names the tensor in every error.
class WeightBinder {
 public:
  explicit WeightBinder(const gguf::File& file) : file_(file) {}

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
  // A matrix of n_out rows of n_in elements (GGUF shape [n_in, n_out]).
  Status matrix(const std::string& name, int64_t n_in, int64_t n_out, Matrix* out, bool required = true) const;
  // A 1-D tensor of n elements, converted to float.
  Status vector(const std::string& name, int64_t n, std::vector<float>* out, bool required = true) const;

 private:
  const gguf::File& file_;
};

// "blk.<layer>.<suffix>"
std::string layer_tensor(int layer, const char* suffix);

}  // namespace sov::engine
