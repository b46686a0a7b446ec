#include "engine/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sov::engine {

void rms_norm(const float* x, const float* w, int n, float eps, float* out) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void add_inplace(float* x, const float* y, int n) {
  for (int i = 0; i < n; ++i) x[i] += y[i];
}

void softmax(float* x, int n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) max = std::max(max, x[i]);
  if (max == -std::numeric_limits<float>::infinity()) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

void softcap(float* x, int n, float cap) {
  for (int i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

void gated_activation(const float* gate, const float* up, int n, Activation act, float* out) {
  if (act == Activation::kSilu) {
    for (int i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
  } else {
    for (int i = 0; i < n; ++i) out[i] = gelu_tanh(gate[i]) * up[i];
  }
}

namespace {
// The dimension index where YaRN's ramp between interpolation and extrapolation sits for a
// given number of rotations over the original context.
float yarn_corr_dim(int n_rot, int n_ctx_orig, float n_rotations, float base) {
  return n_rot * std::log(n_ctx_orig / (n_rotations * 2.0f * static_cast<float>(M_PI))) / (2.0f * std::log(base));
}
}  // namespace

Rope::Rope(const HParams& hp, const float* freq_factors)
    : n_rot_(hp.n_rot),
      type_(hp.rope_type),
      theta_base_(hp.rope_theta),
      freq_scale_(hp.rope_scaling == RopeScaling::kNone ? 1.0f : 1.0f / hp.rope_scale),
      ext_factor_(hp.rope_scaling == RopeScaling::kYarn ? 1.0f : 0.0f),
      attn_factor_(hp.rope_scaling == RopeScaling::kYarn ? hp.yarn_attn_factor : 1.0f),
      freq_factors_(freq_factors) {
  if (ext_factor_ != 0.0f) {
    corr_low_ = std::max(0.0f, std::floor(yarn_corr_dim(n_rot_, hp.rope_orig_ctx, hp.yarn_beta_fast, theta_base_)));
    corr_high_ = std::min(static_cast<float>(n_rot_ - 1),
                          std::ceil(yarn_corr_dim(n_rot_, hp.rope_orig_ctx, hp.yarn_beta_slow, theta_base_)));
  }
}

void Rope::table(int32_t pos, float* cos_sin) const {
  const float theta_scale = std::pow(theta_base_, -2.0f / n_rot_);
  float theta_pow = 1.0f;  // theta_scale^i, accumulated like the reference does
  for (int i = 0; i < n_rot_ / 2; ++i) {
    const float factor = freq_factors_ ? freq_factors_[i] : 1.0f;
    const float theta_extrap = pos * theta_pow / factor;
    const float theta_interp = freq_scale_ * theta_extrap;
    float theta = theta_interp;
    float mscale = attn_factor_;
    if (ext_factor_ != 0.0f) {
      const float y = (i - corr_low_) / std::max(0.001f, corr_high_ - corr_low_);
      const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * ext_factor_;
      theta = theta_interp * (1.0f - ramp) + theta_extrap * ramp;
      mscale *= 1.0f + 0.1f * std::log(1.0f / freq_scale_);
    }
    cos_sin[2 * i] = std::cos(theta) * mscale;
    cos_sin[2 * i + 1] = std::sin(theta) * mscale;
    theta_pow *= theta_scale;
  }
}

void Rope::apply(float* head, const float* cos_sin) const {
  const int half = n_rot_ / 2;
  for (int i = 0; i < half; ++i) {
    // Normal RoPE rotates adjacent pairs; NEOX rotates element i with element i + n_rot/2.
    const int a = type_ == RopeType::kNormal ? 2 * i : i;
    const int b = type_ == RopeType::kNormal ? 2 * i + 1 : i + half;
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * c - x1 * s;
    head[b] = x0 * s + x1 * c;
  }
}

}  // namespace sov::engine
