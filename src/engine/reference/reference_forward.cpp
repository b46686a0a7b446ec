#include "engine/reference/reference_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sov::engine {
namespace {

// x / sqrt(mean(x²) + eps) * w, in place.
void rmsnorm(float* x, const std::vector<float>& w, int n, float eps) {
  double ss = 0.0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] * scale * w[i]);
}

double gelu(double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }
double silu(double x) { return x / (1.0 + std::exp(-x)); }

}  // namespace

ReferenceForward::DenseMatrix ReferenceForward::dense(const Matrix& m) {
  DenseMatrix d;
  d.n_in = m.view.n_in;
  d.n_out = m.view.n_out;
  d.w.resize(static_cast<size_t>(d.n_in * d.n_out));
  for (int64_t r = 0; r < d.n_out; ++r) kernels::dequantize_row(m.view, r, &d.w[r * d.n_in]);
  return d;
}

ReferenceForward::DenseMatrix ReferenceForward::rows(const DenseMatrix& m, int64_t first, int64_t count) {
  DenseMatrix d;
  d.n_in = m.n_in;
  d.n_out = count;
  d.w.assign(m.w.begin() + first * m.n_in, m.w.begin() + (first + count) * m.n_in);
  return d;
}

void ReferenceForward::matvec(const DenseMatrix& m, const float* x, float* y) {
  for (int64_t o = 0; o < m.n_out; ++o) {
    double s = 0.0;
    const float* row = &m.w[o * m.n_in];
    for (int64_t i = 0; i < m.n_in; ++i) s += static_cast<double>(row[i]) * x[i];
    y[o] = static_cast<float>(s);
  }
}

ReferenceForward::ReferenceForward(const Model& model, int32_t n_ctx)
    : model_(model), hp_(model.hparams()), n_ctx_(n_ctx) {
  const ModelWeights& w = model.weights();
  const int64_t nq = hp_.n_embd_q(), nkv = hp_.n_embd_kv(), ff = hp_.n_ff;
  embd_ = dense(w.token_embd);
  output_ = dense(w.output);
  for (const LayerWeights& lw : w.layers) {
    Layer l;
    if (lw.wqkv.present()) {  // fused rows: Q, then K, then V
      DenseMatrix qkv = dense(lw.wqkv);
      l.wq = rows(qkv, 0, nq);
      l.wk = rows(qkv, nq, nkv);
      l.wv = rows(qkv, nq + nkv, nkv);
    } else {
      l.wq = dense(lw.wq);
      l.wk = dense(lw.wk);
      l.wv = dense(lw.wv);
    }
    l.wo = dense(lw.wo);
    if (lw.ffn_gate.present()) {
      l.gate = dense(lw.ffn_gate);
      l.up = dense(lw.ffn_up);
    } else {  // fused rows: gate, then up
      DenseMatrix gu = dense(lw.ffn_up);
      l.gate = rows(gu, 0, ff);
      l.up = rows(gu, ff, ff);
    }
    l.down = dense(lw.ffn_down);
    layers_.push_back(std::move(l));
  }
  k_cache_.assign(hp_.n_layer, std::vector<float>(static_cast<size_t>(n_ctx) * nkv));
  v_cache_.assign(hp_.n_layer, std::vector<float>(static_cast<size_t>(n_ctx) * nkv));
}

void ReferenceForward::rope(float* head, int32_t pos) const {
  const auto& factors = model_.weights().rope_freqs;
  const int half = hp_.n_rot / 2;
  const double freq_scale = hp_.rope_scaling == RopeScaling::kNone ? 1.0 : 1.0 / hp_.rope_scale;
  double low = 0, high = 0;
  auto corr_dim = [&](double n_rotations) {
    return hp_.n_rot * std::log(hp_.rope_orig_ctx / (n_rotations * 2 * M_PI)) / (2 * std::log(hp_.rope_theta));
  };
  if (hp_.rope_scaling == RopeScaling::kYarn) {
    low = std::max(0.0, std::floor(corr_dim(hp_.yarn_beta_fast)));
    high = std::min(hp_.n_rot - 1.0, std::ceil(corr_dim(hp_.yarn_beta_slow)));
  }
  for (int i = 0; i < half; ++i) {
    // angle of pair i: pos * theta^(-2i/n_rot) / factor[i], then the scaling.
    double extrap = pos * std::pow(hp_.rope_theta, -2.0 * i / hp_.n_rot) / (factors.empty() ? 1.0 : factors[i]);
    double theta = extrap * freq_scale;
    double mscale = 1.0;
    if (hp_.rope_scaling == RopeScaling::kYarn) {
      double ramp = 1.0 - std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
      theta = theta * (1 - ramp) + extrap * ramp;
      mscale = hp_.yarn_attn_factor * (1.0 + 0.1 * std::log(1.0 / freq_scale));
    }
    const int a = hp_.rope_type == RopeType::kNormal ? 2 * i : i;
    const int b = hp_.rope_type == RopeType::kNormal ? 2 * i + 1 : i + half;
    const double x0 = head[a], x1 = head[b];
    head[a] = static_cast<float>((x0 * std::cos(theta) - x1 * std::sin(theta)) * mscale);
    head[b] = static_cast<float>((x0 * std::sin(theta) + x1 * std::cos(theta)) * mscale);
  }
}

std::vector<float> ReferenceForward::step(int32_t token) {
  if (pos_ >= n_ctx_ || token < 0 || token >= hp_.n_vocab) return {};
  const ModelWeights& w = model_.weights();
  const int d = hp_.n_embd, hd = hp_.head_dim, nq = hp_.n_embd_q(), nkv = hp_.n_embd_kv(), ff = hp_.n_ff;
  const int group = hp_.n_head / hp_.n_head_kv;
  const int32_t pos = pos_++;
  const double scale = hp_.attn_scale > 0 ? hp_.attn_scale : 1.0 / std::sqrt(static_cast<double>(hd));

  std::vector<float> x(embd_.w.begin() + token * d, embd_.w.begin() + (token + 1) * d);  // [d]
  for (float& v : x) v *= hp_.embd_scale;
  std::vector<float> h(d), q(nq), k(nkv), v(nkv), att(nq), o(d), g(ff), u(ff), scores(pos + 1);

  for (int l = 0; l < hp_.n_layer; ++l) {
    const LayerWeights& lw = w.layers[l];
    const Layer& L = layers_[l];
    // Attention block.
    h = x;
    rmsnorm(h.data(), lw.attn_norm, d, hp_.norm_eps);
    matvec(L.wq, h.data(), q.data());  // [nq]
    matvec(L.wk, h.data(), k.data());  // [nkv]
    matvec(L.wv, h.data(), v.data());  // [nkv]
    for (int i = 0; i < nq && !lw.bq.empty(); ++i) q[i] += lw.bq[i];
    for (int i = 0; i < nkv && !lw.bk.empty(); ++i) k[i] += lw.bk[i];
    for (int i = 0; i < nkv && !lw.bv.empty(); ++i) v[i] += lw.bv[i];
    for (int hh = 0; hh < hp_.n_head; ++hh) {
      if (!lw.q_norm.empty()) rmsnorm(&q[hh * hd], lw.q_norm, hd, hp_.norm_eps);
      rope(&q[hh * hd], pos);
    }
    for (int hh = 0; hh < hp_.n_head_kv; ++hh) {
      if (!lw.k_norm.empty()) rmsnorm(&k[hh * hd], lw.k_norm, hd, hp_.norm_eps);
      rope(&k[hh * hd], pos);
    }
    std::copy(k.begin(), k.end(), k_cache_[l].begin() + static_cast<long>(pos) * nkv);
    std::copy(v.begin(), v.end(), v_cache_[l].begin() + static_cast<long>(pos) * nkv);
    for (int hh = 0; hh < hp_.n_head; ++hh) {
      const int kvh = hh / group;
      double max = -std::numeric_limits<double>::infinity();
      for (int j = 0; j <= pos; ++j) {
        bool visible = !hp_.layer_uses_swa(l) || pos - j < hp_.sliding_window;
        double s = 0;
        for (int i = 0; i < hd; ++i) s += static_cast<double>(q[hh * hd + i]) * k_cache_[l][j * nkv + kvh * hd + i];
        s *= scale;
        if (hp_.attn_softcap > 0) s = hp_.attn_softcap * std::tanh(s / hp_.attn_softcap);
        scores[j] = visible ? static_cast<float>(s) : -std::numeric_limits<float>::infinity();
        if (visible) max = std::max(max, s);
      }
      double sum = 0;
      for (int j = 0; j <= pos; ++j) sum += std::exp(scores[j] - max);
      for (int i = 0; i < hd; ++i) {
        double acc = 0;
        for (int j = 0; j <= pos; ++j) acc += std::exp(scores[j] - max) / sum * v_cache_[l][j * nkv + kvh * hd + i];
        att[hh * hd + i] = static_cast<float>(acc);
      }
    }
    matvec(L.wo, att.data(), o.data());
    if (!lw.post_attn_norm.empty()) rmsnorm(o.data(), lw.post_attn_norm, d, hp_.norm_eps);
    for (int i = 0; i < d; ++i) x[i] += o[i];

    // Feed-forward block.
    h = x;
    rmsnorm(h.data(), lw.ffn_norm, d, hp_.norm_eps);
    matvec(L.gate, h.data(), g.data());
    matvec(L.up, h.data(), u.data());
    for (int i = 0; i < ff; ++i) {
      g[i] = static_cast<float>((hp_.activation == Activation::kSilu ? silu(g[i]) : gelu(g[i])) * u[i]);
    }
    matvec(L.down, g.data(), o.data());
    if (!lw.post_ffn_norm.empty()) rmsnorm(o.data(), lw.post_ffn_norm, d, hp_.norm_eps);
    for (int i = 0; i < d; ++i) x[i] += o[i];
  }
  rmsnorm(x.data(), w.output_norm, d, hp_.norm_eps);
  std::vector<float> logits(hp_.n_vocab);
  matvec(output_, x.data(), logits.data());
  if (hp_.final_softcap > 0) {
    for (float& z : logits) z = hp_.final_softcap * std::tanh(z / hp_.final_softcap);
  }
  return logits;
}

}  // namespace sov::engine
