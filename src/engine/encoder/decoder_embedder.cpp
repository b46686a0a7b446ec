#include "engine/encoder/decoder_embedder.h"

#include <fmt/format.h>

#include <algorithm>

namespace sov::engine {
namespace {

// The KV caches are mapped lazily (only written pages become resident), but their address
// space is reserved up front: keep n_seq of them within this.
constexpr uint64_t kMaxCacheBytes = 1ull << 30;

}  // namespace

Result<std::unique_ptr<DecoderEmbedder>> DecoderEmbedder::create(std::shared_ptr<const Model> model,
                                                                 DecoderEmbedderParams params) {
  if (!model) return Status::invalid_argument("decoder embedder needs a model");
  const HParams& hp = model->hparams();
  Pooling pooling = Pooling::kLast;
  if (auto p = model->file().get_int(hp.arch + ".pooling_type")) {
    SOV_ASSIGN_OR_RETURN(pooling, pooling_from_gguf(*p));
  }
  ContextParams cp;
  cp.n_ctx = params.n_ctx > 0 ? std::min(params.n_ctx, hp.n_ctx_train) : default_n_ctx(hp);
  cp.n_batch = std::max<int32_t>(1, params.n_batch);
  cp.n_threads = params.n_threads;
  cp.embeddings = true;
  // Both caches, every layer, F32.
  const uint64_t per_seq = 2ull * hp.n_layer * static_cast<uint64_t>(cp.n_ctx) * hp.n_embd_kv() * 4;
  const uint64_t fit = per_seq > 0 ? kMaxCacheBytes / per_seq : 1;
  cp.n_seq =
      static_cast<int32_t>(std::clamp<uint64_t>(fit, 1, static_cast<uint64_t>(std::max(1, params.n_seq))));
  SOV_ASSIGN_OR_RETURN(auto ctx, Context::create(model, cp));
  return std::unique_ptr<DecoderEmbedder>(new DecoderEmbedder(std::move(model), std::move(ctx), pooling));
}

Status DecoderEmbedder::pool(std::span<const std::vector<int32_t>> inputs, Pooling pooling, float* out) {
  const int32_t n_vocab = model_->hparams().n_vocab;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) return Status::invalid_argument(fmt::format("input {} has no tokens", i));
    if (inputs[i].size() > static_cast<size_t>(n_ctx())) {
      return Status::out_of_range(
          fmt::format("input {} has {} tokens, more than the context of {}", i, inputs[i].size(), n_ctx()));
    }
    for (int32_t t : inputs[i]) {
      if (t < 0 || t >= n_vocab) {
        return Status::invalid_argument(
            fmt::format("token id {} is outside the vocabulary (0..{})", t, n_vocab - 1));
      }
    }
  }
  const size_t n_seq = static_cast<size_t>(ctx_->n_seq());
  for (size_t first = 0; first < inputs.size(); first += n_seq) {
    const size_t count = std::min(n_seq, inputs.size() - first);
    SOV_RETURN_IF_ERROR(run_group(inputs.subspan(first, count), pooling, out + first * n_embd()));
  }
  return Status::ok();
}

Status DecoderEmbedder::run_group(std::span<const std::vector<int32_t>> group, Pooling pooling, float* out) {
  const int32_t d = n_embd();
  batch_.clear();
  for (size_t s = 0; s < group.size(); ++s) {
    ctx_->truncate(static_cast<int>(s), 0);
    const std::vector<int32_t>& ids = group[s];
    for (size_t i = 0; i < ids.size(); ++i) {
      const bool want = pooling == Pooling::kMean || pooling == Pooling::kNone ||
                        (pooling == Pooling::kLast && i + 1 == ids.size()) ||
                        (pooling == Pooling::kCls && i == 0);
      batch_.push_back({static_cast<int32_t>(s), ids[i], want});
    }
  }
  SOV_RETURN_IF_ERROR(ctx_->decode_batch(batch_));
  sum_.resize(static_cast<size_t>(d));
  size_t row = 0;
  for (size_t s = 0; s < group.size(); ++s) {
    float* dst = out + s * d;
    const size_t n = group[s].size();
    if (pooling == Pooling::kMean) {
      // In double, like the encoder's pooling, so that long inputs keep every token's share.
      std::fill(sum_.begin(), sum_.end(), 0.0);
      for (size_t i = 0; i < n; ++i) {
        std::span<const float> h = ctx_->batch_embedding(row + i);
        for (int32_t j = 0; j < d; ++j) sum_[j] += h[j];
      }
      for (int32_t j = 0; j < d; ++j) dst[j] = static_cast<float>(sum_[j] / static_cast<double>(n));
    } else {
      const size_t pick = pooling == Pooling::kLast ? row + n - 1 : row;
      std::span<const float> h = ctx_->batch_embedding(pick);
      std::copy(h.begin(), h.end(), dst);
    }
    row += n;
  }
  for (size_t s = 0; s < group.size(); ++s) ctx_->truncate(static_cast<int>(s), 0);
  return Status::ok();
}

Result<std::vector<float>> DecoderEmbedder::token_states(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) return Status::invalid_argument("no tokens");
  const int32_t d = n_embd();
  std::vector<float> states(tokens.size() * static_cast<size_t>(d));
  // Mean pooling keeps every row; read them one by one.
  std::vector<std::vector<int32_t>> one{tokens};
  SOV_RETURN_IF_ERROR(pool(one, Pooling::kMean, states.data()));  // validates, fills the rows
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::span<const float> h = ctx_->batch_embedding(i);
    std::copy(h.begin(), h.end(), states.begin() + static_cast<std::ptrdiff_t>(i * d));
  }
  return states;
}

}  // namespace sov::engine
