// Element-wise and per-row operations of the forward pass, on float rows. Pure functions,
// thread-safe; none allocates.
#pragma once

#include <cstdint>

#include "engine/hparams.h"

namespace sov::engine {

// out[i] = x[i] / sqrt(mean(x²) + eps) * w[i]; out may alias x.
void rms_norm(const float* x, const float* w, int n, float eps, float* out);
// x[i] += y[i]
void add_inplace(float* x, const float* y, int n);
// Softmax in place over n values (-inf entries get weight 0).
void softmax(float* x, int n);
// cap * tanh(x / cap) in place.
void softcap(float* x, int n, float cap);
// out[i] = act(gate[i]) * up[i]; out may alias gate.
void gated_activation(const float* gate, const float* up, int n, Activation act, float* out);
float gelu_tanh(float x);
float silu(float x);

// Rotary position embedding for one position: the cos/sin of each rotated pair, with the
// model's RoPE scaling (linear, YaRN) and optional per-pair frequency factors folded in.
class Rope {
 public:
  // freq_factors: n_rot/2 divisors or null.
  Rope(const HParams& hp, const float* freq_factors);
  // Fills cos_sin[2*i], cos_sin[2*i+1] for pairs i < n_rot/2 at `pos`.
  void table(int32_t pos, float* cos_sin) const;
  // Rotates one head vector in place using a table from table().
  void apply(float* head, const float* cos_sin) const;
  int n_pairs() const { return n_rot_ / 2; }

 private:
  int n_rot_;
  RopeType type_;
  float theta_base_;
  float freq_scale_;
  float ext_factor_;
  float attn_factor_;
  float corr_low_ = 0, corr_high_ = 0;
  const float* freq_factors_;
};

}  // namespace sov::engine
