#include "engine/encoder/encoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/encoder/gemm.h"
#include "engine/encoder/vec_math.h"

namespace sov::engine {
namespace {

// Queries per attention job: bounds the scores buffer at kQueryBlock x sequence length and
// gives the pool enough jobs for a single short sequence.
constexpr int32_t kQueryBlock = 64;
// Rows per group in the matmul kernels (kernels::matmul computes tokens four at a time).
constexpr int64_t kRowAlign = 4;
// Below this many rows a per-token step is not worth waking the pool for.
constexpr int64_t kMinParallelRows = 16;

void add_bias(float* y, const float* b, int n) {
  for (int i = 0; i < n; ++i) y[i] += b[i];
}

}  // namespace

void layer_norm(const float* x, const float* w, const float* b, int n, float eps, float* out) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / n;
  double var = 0.0;
  for (int i = 0; i < n; ++i) {
    const double dx = x[i] - mean;
    var += dx * dx;
  }
  const float scale = static_cast<float>(1.0 / std::sqrt(var / n + eps));
  const float m = static_cast<float>(mean);
  for (int i = 0; i < n; ++i) out[i] = (x[i] - m) * scale * w[i] + (b != nullptr ? b[i] : 0.0f);
}

Encoder::Encoder(std::shared_ptr<const EncoderModel> model, ThreadPool* pool)
    : model_(std::move(model)), hp_(model_->hparams()), pool_(pool), rope_(hp_.base, nullptr) {}

template <typename Fn>
void Encoder::for_rows(int64_t n, Fn&& fn) {
  if (pool_ == nullptr || pool_->size() == 1 || n < kMinParallelRows) {
    fn(int64_t{0}, n);
    return;
  }
  pool_->parallel_for(static_cast<size_t>(n), [&fn](size_t begin, size_t end, int) {
    fn(static_cast<int64_t>(begin), static_cast<int64_t>(end));
  });
}

Status Encoder::forward(std::span<const EncoderSequence> seqs) {
  const HParams& hp = hp_.base;
  if (seqs.empty()) return Status::invalid_argument("encoder batch has no sequences");
  int64_t total = 0;
  int32_t max_len = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const EncoderSequence& seq = seqs[s];
    if (seq.tokens.empty()) return Status::invalid_argument(fmt::format("sequence {} has no tokens", s));
    if (seq.tokens.size() > static_cast<size_t>(model_->n_ctx())) {
      return Status::out_of_range(
          fmt::format("sequence {} has {} tokens, more than the model's context of {}", s, seq.tokens.size(),
                      model_->n_ctx()));
    }
    if (!seq.token_types.empty() && seq.token_types.size() != seq.tokens.size()) {
      return Status::invalid_argument(fmt::format("sequence {} has {} token types for {} tokens", s,
                                                  seq.token_types.size(), seq.tokens.size()));
    }
    for (int32_t t : seq.tokens) {
      if (t < 0 || t >= hp.n_vocab) {
        return Status::invalid_argument(
            fmt::format("token id {} is outside the vocabulary (0..{})", t, hp.n_vocab - 1));
      }
    }
    for (int32_t tt : seq.token_types) {
      if (tt < 0 || tt >= std::max(1, hp_.n_token_types)) {
        return Status::invalid_argument(fmt::format("token type {} is out of range (the model has {})", tt,
                                                    std::max(1, hp_.n_token_types)));
      }
    }
    total += static_cast<int64_t>(seq.tokens.size());
    max_len = std::max(max_len, static_cast<int32_t>(seq.tokens.size()));
  }

  // Every sequence starts on a multiple of kRowAlign rows: matmul kernels process tokens in
  // aligned groups, so a token then meets the same arithmetic whatever else is in the
  // batch, and a batch gives bit-identical results to its sequences one by one. Padding
  // rows hold token 0 at position 0; they are computed and ignored.
  reserve(total + static_cast<int64_t>(seqs.size()) * (kRowAlign - 1), max_len);
  seq_start_.clear();
  seq_len_.clear();
  int64_t row = 0;
  for (const EncoderSequence& seq : seqs) {
    seq_start_.push_back(row);
    seq_len_.push_back(static_cast<int64_t>(seq.tokens.size()));
    for (size_t i = 0; i < seq.tokens.size(); ++i, ++row) {
      row_token_[row] = seq.tokens[i];
      row_type_[row] = seq.token_types.empty() ? 0 : seq.token_types[i];
      row_pos_[row] = static_cast<int32_t>(i);
    }
    for (; row % kRowAlign != 0; ++row) {
      row_token_[row] = 0;
      row_type_[row] = 0;
      row_pos_[row] = 0;
    }
  }
  n_rows_ = row;
  if (hp_.use_rope) {
    for (int32_t p = 0; p < max_len; ++p) rope_table(p);  // fill the cache before threads read it
  }

  // Attention jobs: every (sequence, head, block of queries).
  jobs_.clear();
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int32_t len = static_cast<int32_t>(seq_len_[s]);
    for (int32_t h = 0; h < hp.n_head; ++h) {
      for (int32_t q0 = 0; q0 < len; q0 += kQueryBlock) {
        jobs_.push_back({seq_start_[s], len, h, q0, std::min(len, q0 + kQueryBlock)});
      }
    }
  }

  embed();
  for (int l = 0; l < hp.n_layer; ++l) layer(l);
  return Status::ok();
}

void Encoder::reserve(int64_t n_rows, int32_t max_len) {
  const HParams& hp = hp_.base;
  max_len_ = max_len;
  const size_t n = static_cast<size_t>(n_rows), d = hp.n_embd, nq = hp.n_embd_q(), nkv = hp.n_embd_kv();
  auto grow = [](std::vector<float>& v, size_t size) {
    if (v.size() < size) v.resize(size);
  };
  grow(x_, n * d);
  grow(o_, n * d);
  const bool fused = !model_->weights().layers.empty() && model_->weights().layers[0].wqkv.present();
  if (fused) {
    grow(qkv_, n * (nq + 2 * nkv));
  } else {
    grow(q_, n * nq);
    grow(k_, n * nkv);
    grow(v_, n * nkv);
  }
  grow(att_, n * nq);
  grow(qh_, n * nq);
  grow(kh_, n * nkv);
  grow(vt_, n * nkv);
  grow(up_, n * hp.n_ff);
  grow(gate_, n * hp.n_ff);
  const size_t threads = pool_ != nullptr ? static_cast<size_t>(pool_->size()) : 1;
  grow(attn_scratch_, threads * kQueryBlock * (static_cast<size_t>(max_len) + hp.head_dim));
  if (row_token_.size() < n) {
    row_token_.resize(n);
    row_type_.resize(n);
    row_pos_.resize(n);
  }
}

const float* Encoder::rope_table(int32_t pos) {
  const int n_rot = hp_.base.n_rot;
  if (pos >= rope_cached_) {
    rope_cache_.resize(static_cast<size_t>(pos + 1) * n_rot);
    for (int32_t p = rope_cached_; p <= pos; ++p)
      rope_.table(p, &rope_cache_[static_cast<size_t>(p) * n_rot]);
    rope_cached_ = pos + 1;
  }
  return &rope_cache_[static_cast<size_t>(pos) * n_rot];
}

void Encoder::linear(const Matrix& w, const std::vector<float>& bias, const float* x, float* y) {
  // Float weights: the blocked GEMM (activations stay float), for any row count so that
  // a row's arithmetic never depends on the batch. Quantized weights: the kernels' int8
  // dot products, as for decoders.
  if (gemm_supported(w.view)) {
    gemm(w.view, x, n_rows_, y, pool_);
  } else {
    kernels::matmul(w.view, x, n_rows_, y, &scratch_, pool_);
  }
  if (bias.empty()) return;
  const int n_out = static_cast<int>(w.view.n_out);
  for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) add_bias(y + r * n_out, bias.data(), n_out);
  });
}

// x = LN(tok[id] + type[tt] + pos[p])
void Encoder::embed() {
  const EncoderWeights& w = model_->weights();
  const int d = hp_.base.n_embd;
  const float eps = hp_.base.norm_eps;
  const float* norm_b = w.embd_norm_b.empty() ? nullptr : w.embd_norm_b.data();
  for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(static_cast<size_t>(d));
    for (int64_t r = r0; r < r1; ++r) {
      float* x = &x_[static_cast<size_t>(r) * d];
      kernels::dequantize_row(w.token_embd.view, row_token_[r], x);
      if (w.token_types.present()) {
        kernels::dequantize_row(w.token_types.view, row_type_[r], tmp.data());
        add_bias(x, tmp.data(), d);
      }
      if (w.position_embd.present()) {
        kernels::dequantize_row(w.position_embd.view, row_pos_[r], tmp.data());
        add_bias(x, tmp.data(), d);
      }
      layer_norm(x, w.embd_norm_w.data(), norm_b, d, eps, x);
    }
  });
}

void Encoder::layer(int l) {
  const HParams& hp = hp_.base;
  const EncoderLayer& lw = model_->weights().layers[l];
  const int d = hp.n_embd, nq = hp.n_embd_q(), nkv = hp.n_embd_kv(), ff = hp.n_ff, hd = hp.head_dim;
  const float eps = hp.norm_eps;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  // Q, K, V: [n_rows][width] each, possibly interleaved in one fused buffer.
  const float *qs, *ks, *vs;
  size_t stride_q, stride_kv;
  if (lw.wqkv.present()) {
    linear(lw.wqkv, lw.bqkv, x_.data(), qkv_.data());
    qs = qkv_.data();
    ks = qs + nq;
    vs = qs + nq + nkv;
    stride_q = stride_kv = static_cast<size_t>(nq + 2 * nkv);
  } else {
    linear(lw.wq, lw.bq, x_.data(), q_.data());
    linear(lw.wk, lw.bk, x_.data(), k_.data());
    linear(lw.wv, lw.bv, x_.data(), v_.data());
    qs = q_.data();
    ks = k_.data();
    vs = v_.data();
    stride_q = nq;
    stride_kv = nkv;
  }

  // Per-head layouts for the attention products; RoPE and the 1/sqrt(head_dim) scale here.
  const size_t n = static_cast<size_t>(n_rows_);
  for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* tab = hp_.use_rope ? &rope_cache_[static_cast<size_t>(row_pos_[r]) * hp.n_rot] : nullptr;
      for (int h = 0; h < hp.n_head; ++h) {
        float* q = &qh_[(h * n + r) * hd];
        std::memcpy(q, qs + r * stride_q + h * hd, sizeof(float) * hd);
        if (tab != nullptr) rope_.apply(q, tab);
        for (int i = 0; i < hd; ++i) q[i] *= scale;
      }
      for (int h = 0; h < hp.n_head_kv; ++h) {
        float* k = &kh_[(h * n + r) * hd];
        std::memcpy(k, ks + r * stride_kv + h * hd, sizeof(float) * hd);
        if (tab != nullptr) rope_.apply(k, tab);
        const float* v = vs + r * stride_kv + h * hd;
        for (int i = 0; i < hd; ++i) vt_[(static_cast<size_t>(h) * hd + i) * n + r] = v[i];
      }
    }
  });

  attention();

  // x = LN(x + o(att))
  linear(lw.wo, lw.bo, att_.data(), o_.data());
  const float* an_b = lw.attn_norm_b.empty() ? nullptr : lw.attn_norm_b.data();
  for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* x = &x_[r * d];
      add_bias(x, &o_[r * d], d);
      layer_norm(x, lw.attn_norm_w.data(), an_b, d, eps, x);
    }
  });

  // x = LN(x + down(act(up(x))))   (gated: down(silu(gate(x)) * up(x)))
  linear(lw.ffn_up, lw.b_up, x_.data(), up_.data());
  if (lw.ffn_gate.present()) {
    linear(lw.ffn_gate, lw.b_gate, x_.data(), gate_.data());
    for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
      if (hp_.activation == Activation::kSilu) {
        swiglu_inplace(&gate_[r0 * ff], &up_[r0 * ff], (r1 - r0) * ff);
      } else {
        for (int64_t r = r0; r < r1; ++r) {
          gated_activation(&gate_[r * ff], &up_[r * ff], ff, hp_.activation, &up_[r * ff]);
        }
      }
    });
  } else {
    for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
      float* u = &up_[r0 * ff];
      const int64_t count = (r1 - r0) * ff;
      if (hp_.activation == Activation::kSilu) {
        silu_inplace(u, count);
      } else {
        gelu_inplace(u, count);  // llama.cpp's fp16-table GELU
      }
    });
  }
  linear(lw.ffn_down, lw.b_down, up_.data(), o_.data());
  const float* on_b = lw.out_norm_b.empty() ? nullptr : lw.out_norm_b.data();
  for_rows(n_rows_, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* x = &x_[r * d];
      add_bias(x, &o_[r * d], d);
      layer_norm(x, lw.out_norm_w.data(), on_b, d, eps, x);
    }
  });
}

// att[row][h*hd..] = softmax(q·Kᵀ) · V over the row's own sequence, for every head.
void Encoder::attention() {
  const HParams& hp = hp_.base;
  const int hd = hp.head_dim, nq = hp.n_embd_q();
  const int group = hp.n_head / hp.n_head_kv;
  const size_t n = static_cast<size_t>(n_rows_);
  const size_t per_thread = static_cast<size_t>(kQueryBlock) * (static_cast<size_t>(max_len_) + hd);
  const bool causal = hp_.causal;
  const bool use_gemm = gemm_supported({gguf::TensorType::kF32, nullptr, hd, 1, sizeof(float) * hd});

  auto run = [&](size_t begin, size_t end, int thread) {
    float* scores = &attn_scratch_[static_cast<size_t>(thread) * per_thread];
    float* out = scores + static_cast<size_t>(kQueryBlock) * max_len_;
    for (size_t j = begin; j < end; ++j) {
      const AttnJob& job = jobs_[j];
      const int kvh = job.head / group;
      const int nq_rows = job.q1 - job.q0;
      // scores[i][k] = q_i · k_k   (q pre-scaled); K rows of this sequence act as the "weights".
      const kernels::WeightView keys{gguf::TensorType::kF32, &kh_[(kvh * n + job.start) * hd], hd, job.len,
                                     sizeof(float) * hd};
      const float* q = &qh_[(job.head * n + job.start + job.q0) * hd];
      if (use_gemm) {
        gemm(keys, q, nq_rows, scores, nullptr);
      } else {
        kernels::matmul(keys, q, nq_rows, scores, nullptr, nullptr);
      }
      for (int i = 0; i < nq_rows; ++i) {
        float* row = scores + static_cast<size_t>(i) * job.len;
        if (causal) {
          std::fill(row + job.q0 + i + 1, row + job.len, -std::numeric_limits<float>::infinity());
        }
        softmax_fast(row, job.len);
      }
      // out[i][c] = sum_k p[i][k] v[k][c]: the transposed V rows of this sequence as weights.
      const kernels::WeightView values{gguf::TensorType::kF32,
                                       &vt_[static_cast<size_t>(kvh) * hd * n + job.start], job.len, hd,
                                       sizeof(float) * n};
      if (use_gemm) {
        gemm(values, scores, nq_rows, out, nullptr);
      } else {
        kernels::matmul(values, scores, nq_rows, out, nullptr, nullptr);
      }
      for (int i = 0; i < nq_rows; ++i) {
        std::memcpy(&att_[(job.start + job.q0 + i) * nq + job.head * hd], out + static_cast<size_t>(i) * hd,
                    sizeof(float) * hd);
      }
    }
  };
  if (pool_ == nullptr || pool_->size() == 1 || jobs_.size() == 1) {
    run(0, jobs_.size(), 0);
  } else {
    pool_->parallel_for(jobs_.size(), run);
  }
  // Padding rows: zeros, so that nothing unbounded flows through their (ignored) rows.
  for (size_t s = 0; s < seq_start_.size(); ++s) {
    const int64_t end = s + 1 < seq_start_.size() ? seq_start_[s + 1] : n_rows_;
    const int64_t pad0 = seq_start_[s] + seq_len_[s];
    std::fill(att_.begin() + pad0 * nq, att_.begin() + end * nq, 0.0f);
  }
}

}  // namespace sov::engine
