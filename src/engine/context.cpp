#include "engine/context.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/vec_ops.h"

namespace sov::engine {

int32_t default_n_ctx(const HParams& hp) {
  return std::min<int32_t>(4096, hp.n_ctx_train);
}

Context::Context(std::shared_ptr<const Model> model, ContextParams params, int32_t n_ctx)
    : model_(std::move(model)),
      hp_(model_->hparams()),
      n_ctx_(n_ctx),
      n_batch_(std::max(1, params.n_batch)),
      embeddings_(params.embeddings),
      kv_type_(params.kv_type),
      n_past_(static_cast<size_t>(std::max(1, params.n_seq)), 0),
      pool_(params.n_threads),
      rope_(hp_, model_->weights().rope_freqs.empty() ? nullptr : model_->weights().rope_freqs.data()) {
  const size_t b = static_cast<size_t>(n_batch_), d = hp_.n_embd, nq = hp_.n_embd_q(), nkv = hp_.n_embd_kv();
  const size_t cache = static_cast<size_t>(hp_.n_layer) * n_past_.size() * n_ctx_ * nkv;
  k_cache_.data.reset(static_cast<std::byte*>(std::calloc(cache, kv_type_bytes(kv_type_))));
  v_cache_.data.reset(static_cast<std::byte*>(std::calloc(cache, kv_type_bytes(kv_type_))));
  x_.resize(b * d);
  h_.resize(b * d);
  o_.resize(b * d);
  q_.resize(b * nq);
  att_.resize(b * nq);
  k_.resize(b * nkv);
  v_.resize(b * nkv);
  // Fused projections (phi3) need room for the whole fused output.
  bool fused_qkv = false, fused_ffn = false;
  for (const LayerWeights& lw : model_->weights().layers) {
    fused_qkv |= lw.wqkv.present();
    fused_ffn |= !lw.ffn_gate.present();
  }
  if (fused_qkv) qkv_.resize(b * (nq + 2 * nkv));
  gate_.resize(b * (fused_ffn ? 2 : 1) * hp_.n_ff);
  up_.resize(b * hp_.n_ff);
  rope_tab_.resize(b * hp_.n_rot);
  attn_scratch_.resize(static_cast<size_t>(pool_.size()) * kernels::attention_scratch_floats(hp_.head_dim));
  seq_count_.resize(n_past_.size() + 1);
  attn_rows_.resize(b);
  // At most one block per (token, query head) pair.
  attn_jobs_.reserve(b * static_cast<size_t>(hp_.n_head));
  logits_.resize(out_width());
  batch_added_.resize(n_past_.size());
  row_token_.resize(b);
  row_seq_.resize(b);
  row_pos_.resize(b);
  row_out_.resize(b);
}

Result<std::unique_ptr<Context>> Context::create(std::shared_ptr<const Model> model, ContextParams params) {
  const HParams& hp = model->hparams();
  int32_t n_ctx = params.n_ctx > 0 ? params.n_ctx : default_n_ctx(hp);
  if (n_ctx > (1 << 22))
    return Status::invalid_argument(fmt::format("context length {} is too large", n_ctx));
  if (params.n_seq < 1 || params.n_seq > 256) {
    return Status::invalid_argument(
        fmt::format("{} sequences per context is out of range (1..256)", params.n_seq));
  }
  auto ctx = std::unique_ptr<Context>(new Context(std::move(model), params, n_ctx));
  if (ctx->k_cache_.get() == nullptr || ctx->v_cache_.get() == nullptr) {
    return Status::resource_exhausted(
        fmt::format("cannot allocate the KV cache for a context of {} positions", n_ctx));
  }
  return ctx;
}

Status Context::decode(std::span<const int32_t> tokens, bool all_logits) {
  if (tokens.empty()) return Status::invalid_argument("decode called with no tokens");
  for (int32_t t : tokens) {
    if (t < 0 || t >= hp_.n_vocab) {
      return Status::invalid_argument(
          fmt::format("token id {} is outside the vocabulary (0..{})", t, hp_.n_vocab - 1));
    }
  }
  if (static_cast<int64_t>(n_past_[0]) + static_cast<int64_t>(tokens.size()) > n_ctx_) {
    return Status::out_of_range(
        fmt::format("context overflow: {} cached + {} new tokens exceed the context of {}", n_past_[0],
                    tokens.size(), n_ctx_));
  }
  const size_t n = tokens.size();
  n_logits_ = all_logits ? static_cast<int32_t>(n) : 1;
  if (logits_.size() < static_cast<size_t>(n_logits_) * out_width()) {
    logits_.resize(static_cast<size_t>(n_logits_) * out_width());
  }
  for (size_t done = 0; done < n; done += n_batch_) {
    const int chunk = static_cast<int>(std::min<size_t>(n_batch_, n - done));
    for (int t = 0; t < chunk; ++t) {
      const size_t i = done + t;
      row_token_[t] = tokens[i];
      row_seq_[t] = 0;
      row_pos_[t] = n_past_[0] + t;
      // Earlier rows only fill the cache unless every row's logits are wanted.
      row_out_[t] = all_logits ? static_cast<int32_t>(i) : (i + 1 == n ? 0 : -1);
    }
    forward(chunk);
    n_past_[0] += chunk;
  }
  return Status::ok();
}

Status Context::decode_batch(std::span<const BatchToken> batch) {
  if (batch.empty()) return Status::invalid_argument("decode_batch called with no tokens");
  std::vector<int32_t>& added = batch_added_;  // per sequence; sized at creation
  std::fill(added.begin(), added.end(), 0);
  int32_t n_out = 0;
  for (const BatchToken& b : batch) {
    if (b.seq < 0 || b.seq >= n_seq())
      return Status::invalid_argument(fmt::format("sequence {} does not exist", b.seq));
    if (b.token < 0 || b.token >= hp_.n_vocab) {
      return Status::invalid_argument(
          fmt::format("token id {} is outside the vocabulary (0..{})", b.token, hp_.n_vocab - 1));
    }
    if (n_past_[b.seq] + ++added[b.seq] > n_ctx_) {
      return Status::out_of_range(
          fmt::format("context overflow in sequence {}: the context holds {} tokens", b.seq, n_ctx_));
    }
    n_out += b.want_logits ? 1 : 0;
  }
  if (logits_.size() < static_cast<size_t>(n_out) * out_width())
    logits_.resize(static_cast<size_t>(n_out) * out_width());
  n_logits_ = n_out;
  batch_rows_.assign(batch.size(), -1);
  int32_t next_out = 0;
  for (size_t done = 0; done < batch.size(); done += n_batch_) {
    const int chunk = static_cast<int>(std::min<size_t>(n_batch_, batch.size() - done));
    for (int t = 0; t < chunk; ++t) {
      const BatchToken& b = batch[done + t];
      row_token_[t] = b.token;
      row_seq_[t] = b.seq;
      row_pos_[t] = n_past_[b.seq]++;
      row_out_[t] = b.want_logits ? next_out++ : -1;
      batch_rows_[done + t] = row_out_[t];
    }
    forward(chunk);
  }
  return Status::ok();
}

std::span<const float> Context::batch_logits(size_t i) const {
  if (embeddings_ || i >= batch_rows_.size() || batch_rows_[i] < 0) return {};
  return {logits_.data() + static_cast<size_t>(batch_rows_[i]) * hp_.n_vocab,
          static_cast<size_t>(hp_.n_vocab)};
}

std::span<const float> Context::batch_embedding(size_t i) const {
  if (!embeddings_ || i >= batch_rows_.size() || batch_rows_[i] < 0) return {};
  return {logits_.data() + static_cast<size_t>(batch_rows_[i]) * hp_.n_embd, static_cast<size_t>(hp_.n_embd)};
}

std::span<const float> Context::logits(int i) const {
  if (embeddings_) return {};
  if (i < 0 || i >= n_logits_) i = n_logits_ - 1;
  return {logits_.data() + static_cast<size_t>(i) * hp_.n_vocab, static_cast<size_t>(hp_.n_vocab)};
}

void Context::truncate(int seq, int32_t n) {
  if (seq >= 0 && seq < n_seq()) n_past_[seq] = std::clamp(n, 0, n_past_[seq]);
}

std::byte* Context::cache_at(const LazyBytes& cache, int layer, int seq, int kv_head, int32_t pos) {
  const size_t hd = hp_.head_dim;
  const size_t head = (static_cast<size_t>(layer) * n_seq() + seq) * hp_.n_head_kv + kv_head;
  return cache.get() + (head * n_ctx_ + pos) * hd * kv_type_bytes(kv_type_);
}

void Context::store_kv(const float* src, std::byte* dst) const {
  if (kv_type_ == KvType::kF16) {
    kernels::to_half(src, hp_.head_dim, reinterpret_cast<uint16_t*>(dst));
  } else {
    std::memcpy(dst, src, sizeof(float) * hp_.head_dim);
  }
}

void Context::linear(const Matrix& w, const float* x, int n, float* y) {
  kernels::matmul(w.view, x, n, y, &scratch_, &pool_);
}

template <typename Fn>
void Context::for_rows(int n, Fn&& fn) {
  // The per-row work here is a few passes over n_embd floats: rows are split over threads only
  // in chunks of at least ~16k floats, so a decode step's few rows run on the calling thread
  // instead of paying a pool hand-off (about a microsecond) for well under a microsecond of work.
  const size_t grain = std::max<size_t>(1, 16384 / static_cast<size_t>(hp_.n_embd));
  pool_.parallel_for(
      static_cast<size_t>(n),
      [&fn](size_t begin, size_t end, int) {
        for (size_t t = begin; t < end; ++t) fn(static_cast<int>(t));
      },
      grain);
}

void Context::forward(int n) {
  const ModelWeights& w = model_->weights();
  const int d = hp_.n_embd, nq = hp_.n_embd_q(), nkv = hp_.n_embd_kv(), ff = hp_.n_ff, hd = hp_.head_dim;
  const float eps = hp_.norm_eps;

  for_rows(n, [&](int t) {
    float* row = &x_[static_cast<size_t>(t) * d];
    kernels::dequantize_row(w.token_embd.view, row_token_[t], row);
    if (hp_.embd_scale != 1.0f) {
      for (int i = 0; i < d; ++i) row[i] *= hp_.embd_scale;
    }
    rope_.table(row_pos_[t], &rope_tab_[static_cast<size_t>(t) * hp_.n_rot]);
  });

  for (int l = 0; l < hp_.n_layer; ++l) {
    const LayerWeights& lw = w.layers[l];
    for_rows(n, [&](int t) {
      kernels::rms_norm(&x_[static_cast<size_t>(t) * d], lw.attn_norm.data(), d, eps,
                        &h_[static_cast<size_t>(t) * d]);
    });

    if (lw.wqkv.present()) {
      linear(lw.wqkv, h_.data(), n, qkv_.data());
      const int stride = nq + 2 * nkv;
      for_rows(n, [&](int t) {
        const float* src = &qkv_[static_cast<size_t>(t) * stride];
        std::memcpy(&q_[static_cast<size_t>(t) * nq], src, sizeof(float) * nq);
        std::memcpy(&k_[static_cast<size_t>(t) * nkv], src + nq, sizeof(float) * nkv);
        std::memcpy(&v_[static_cast<size_t>(t) * nkv], src + nq + nkv, sizeof(float) * nkv);
      });
    } else {
      const kernels::MatmulTarget qkv[] = {
          {&lw.wq.view, q_.data()}, {&lw.wk.view, k_.data()}, {&lw.wv.view, v_.data()}};
      kernels::matmul_many(qkv, h_.data(), n, &scratch_, &pool_);
    }
    for_rows(n, [&](int t) {
      float* q = &q_[static_cast<size_t>(t) * nq];
      float* k = &k_[static_cast<size_t>(t) * nkv];
      float* v = &v_[static_cast<size_t>(t) * nkv];
      if (!lw.bq.empty()) kernels::add(q, lw.bq.data(), nq);
      if (!lw.bk.empty()) kernels::add(k, lw.bk.data(), nkv);
      if (!lw.bv.empty()) kernels::add(v, lw.bv.data(), nkv);
      const float* tab = &rope_tab_[static_cast<size_t>(t) * hp_.n_rot];
      for (int h = 0; h < hp_.n_head; ++h) {
        if (!lw.q_norm.empty()) kernels::rms_norm(q + h * hd, lw.q_norm.data(), hd, eps, q + h * hd);
        rope_.apply(q + h * hd, tab);
      }
      for (int h = 0; h < hp_.n_head_kv; ++h) {
        if (!lw.k_norm.empty()) kernels::rms_norm(k + h * hd, lw.k_norm.data(), hd, eps, k + h * hd);
        rope_.apply(k + h * hd, tab);
      }
      for (int h = 0; h < hp_.n_head_kv; ++h) {
        store_kv(k + h * hd, cache_at(k_cache_, l, row_seq_[t], h, row_pos_[t]));
        store_kv(v + h * hd, cache_at(v_cache_, l, row_seq_[t], h, row_pos_[t]));
      }
    });

    // The last layer only needs the rows whose logits are wanted (their keys and values are
    // cached above): move those rows to the front and drop the others.
    if (l == hp_.n_layer - 1) n = keep_output_rows(n);
    if (n == 0) return;

    attention(l, n);
    linear(lw.wo, att_.data(), n, o_.data());
    for_rows(n, [&](int t) {
      float* o = &o_[static_cast<size_t>(t) * d];
      float* x = &x_[static_cast<size_t>(t) * d];
      if (!lw.post_attn_norm.empty()) kernels::rms_norm(o, lw.post_attn_norm.data(), d, eps, o);
      kernels::add(x, o, d);
      kernels::rms_norm(x, lw.ffn_norm.data(), d, eps, &h_[static_cast<size_t>(t) * d]);
    });

    const bool gelu = hp_.activation == Activation::kGeluTanh;
    if (lw.ffn_gate.present()) {
      const kernels::MatmulTarget gate_up[] = {{&lw.ffn_gate.view, gate_.data()},
                                               {&lw.ffn_up.view, up_.data()}};
      kernels::matmul_many(gate_up, h_.data(), n, &scratch_, &pool_);
      for_rows(n, [&](int t) {
        float* g = &gate_[static_cast<size_t>(t) * ff];
        const float* u = &up_[static_cast<size_t>(t) * ff];
        gelu ? kernels::gelu_mul(g, u, ff, g) : kernels::silu_mul(g, u, ff, g);
      });
    } else {
      // Fused [gate; up] rows: per token, the first n_ff outputs are the gate.
      linear(lw.ffn_up, h_.data(), n, gate_.data());
      for_rows(n, [&](int t) {
        const float* g = &gate_[static_cast<size_t>(t) * 2 * ff];
        float* out = &up_[static_cast<size_t>(t) * ff];
        gelu ? kernels::gelu_mul(g, g + ff, ff, out) : kernels::silu_mul(g, g + ff, ff, out);
      });
      std::memcpy(gate_.data(), up_.data(), sizeof(float) * n * ff);
    }
    linear(lw.ffn_down, gate_.data(), n, o_.data());
    for_rows(n, [&](int t) {
      float* o = &o_[static_cast<size_t>(t) * d];
      if (!lw.post_ffn_norm.empty()) kernels::rms_norm(o, lw.post_ffn_norm.data(), d, eps, o);
      kernels::add(&x_[static_cast<size_t>(t) * d], o, d);
    });
  }
  // Logits of the remaining rows (all want them); their output rows are consecutive.
  const int first_out = row_out_[0];
  if (embeddings_) {  // the normed hidden states are the output
    float* out = logits_.data() + static_cast<size_t>(first_out) * d;
    for_rows(n, [&](int t) {
      kernels::rms_norm(&x_[static_cast<size_t>(t) * d], w.output_norm.data(), d, eps,
                        out + static_cast<size_t>(t) * d);
    });
    return;
  }
  for_rows(n, [&](int t) {
    kernels::rms_norm(&x_[static_cast<size_t>(t) * d], w.output_norm.data(), d, eps,
                      &h_[static_cast<size_t>(t) * d]);
  });
  float* out = logits_.data() + static_cast<size_t>(first_out) * hp_.n_vocab;
  linear(w.output, h_.data(), n, out);
  if (hp_.final_softcap > 0.0f) softcap(out, n * hp_.n_vocab, hp_.final_softcap);
}

int Context::keep_output_rows(int n) {
  const int d = hp_.n_embd, nq = hp_.n_embd_q();
  int kept = 0;
  for (int t = 0; t < n; ++t) {
    if (row_out_[t] < 0) continue;
    if (kept != t) {
      std::memcpy(&x_[static_cast<size_t>(kept) * d], &x_[static_cast<size_t>(t) * d], sizeof(float) * d);
      std::memcpy(&q_[static_cast<size_t>(kept) * nq], &q_[static_cast<size_t>(t) * nq], sizeof(float) * nq);
      row_token_[kept] = row_token_[t];
      row_seq_[kept] = row_seq_[t];
      row_pos_[kept] = row_pos_[t];
      row_out_[kept] = row_out_[t];
    }
    ++kept;
  }
  return kept;
}

}  // namespace sov::engine

namespace sov::engine {

// Attention in blocks of up to 16 (query head, token) lanes that share a sequence and a KV
// head (kernels/attention.h): the heads of one GQA group for 16 / group tokens, which read
// that KV head's keys and values (contiguous in the cache, see cache_at) from memory once per
// block. Blocks are spread over the pool's threads.
void Context::attention(int layer, int n) {
  const int hd = hp_.head_dim, nq = hp_.n_embd_q();
  const int group = hp_.n_head / hp_.n_head_kv;
  const int heads_per_block = std::min(group, kernels::kAttnLanes);
  const int rows_per_block = std::max(1, kernels::kAttnLanes / heads_per_block);
  const bool swa = hp_.layer_uses_swa(layer);

  // Rows grouped by sequence (a counting sort; one sequence is the common case).
  const int n_seq = this->n_seq();
  std::fill(seq_count_.begin(), seq_count_.end(), 0);
  for (int t = 0; t < n; ++t) ++seq_count_[row_seq_[t] + 1];
  for (int s = 0; s < n_seq; ++s) seq_count_[s + 1] += seq_count_[s];
  for (int t = 0; t < n; ++t) attn_rows_[seq_count_[row_seq_[t]]++] = t;
  // seq_count_[s] is now the end of sequence s's rows; its start is the previous end.
  attn_jobs_.clear();
  for (int s = 0, begin = 0; s < n_seq; begin = seq_count_[s], ++s) {
    for (int r = begin; r < seq_count_[s]; r += rows_per_block) {
      const int rows = std::min(rows_per_block, seq_count_[s] - r);
      for (int g = 0; g < hp_.n_head_kv; ++g) {
        for (int h = 0; h < group; h += heads_per_block) {
          attn_jobs_.push_back({r, rows, g, g * group + h, std::min(heads_per_block, group - h)});
        }
      }
    }
  }

  kernels::AttentionParams params;
  params.head_dim = hd;
  params.scale = hp_.attn_scale > 0.0f ? hp_.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
  params.softcap = hp_.attn_softcap;
  params.kv_stride = static_cast<size_t>(hd);
  const size_t scratch_floats = kernels::attention_scratch_floats(hd);
  pool_.parallel_for(attn_jobs_.size(), [&](size_t begin, size_t end, int thread) {
    float* scratch = &attn_scratch_[static_cast<size_t>(thread) * scratch_floats];
    for (size_t i = begin; i < end; ++i) {
      const AttnJob& job = attn_jobs_[i];
      kernels::AttentionBlock block;
      int seq = 0;
      for (int r = 0; r < job.n_rows; ++r) {
        const int t = attn_rows_[job.row_begin + r];
        seq = row_seq_[t];
        const int32_t pos = row_pos_[t];
        // Causal, and within the sliding window where the layer has one: pos - j < window.
        const int32_t first = swa ? std::max(0, pos - hp_.sliding_window + 1) : 0;
        for (int h = job.head_begin; h < job.head_begin + job.n_heads; ++h) {
          const int lane = block.n_lanes++;
          block.q[lane] = &q_[static_cast<size_t>(t) * nq + static_cast<size_t>(h) * hd];
          block.out[lane] = &att_[static_cast<size_t>(t) * nq + static_cast<size_t>(h) * hd];
          block.first[lane] = first;
          block.last[lane] = pos;
        }
      }
      const std::byte* k = cache_at(k_cache_, layer, seq, job.kv_head, 0);
      const std::byte* v = cache_at(v_cache_, layer, seq, job.kv_head, 0);
      if (kv_type_ == KvType::kF16) {
        kernels::attention(block, reinterpret_cast<const uint16_t*>(k), reinterpret_cast<const uint16_t*>(v),
                           params, scratch);
      } else {
        kernels::attention(block, reinterpret_cast<const float*>(k), reinterpret_cast<const float*>(v),
                           params, scratch);
      }
    }
  });
}

}  // namespace sov::engine
