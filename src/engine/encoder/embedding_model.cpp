#include "engine/encoder/embedding_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/encoder/decoder_embedder.h"
#include "engine/encoder/encoder.h"
#include "engine/encoder/pooling.h"

namespace sov::engine {
namespace {

// bert and nomic-bert through the Encoder: a micro-batch is one forward pass.
class EncoderBackend final : public EmbeddingBackend {
 public:
  EncoderBackend(std::shared_ptr<const EncoderModel> model, ThreadPool* pool)
      : model_(std::move(model)), encoder_(model_, pool) {}

  int32_t n_embd() const override { return model_->n_embd(); }
  int32_t n_ctx() const override { return model_->n_ctx(); }
  Pooling default_pooling() const override { return model_->hparams().pooling; }
  const std::string& arch() const override { return model_->hparams().base.arch; }

  Status pool(std::span<const std::vector<int32_t>> inputs, Pooling pooling, float* out) override {
    seqs_.clear();
    for (const auto& in : inputs) seqs_.push_back({in, {}});
    SOV_RETURN_IF_ERROR(encoder_.forward(seqs_));
    const int32_t d = n_embd();
    for (size_t s = 0; s < seqs_.size(); ++s) {
      pool_states(encoder_.state(encoder_.seq_start(s)), static_cast<int64_t>(seqs_[s].tokens.size()), d, d,
                  pooling, out + s * d);
    }
    return Status::ok();
  }

  Result<std::vector<float>> token_states(const std::vector<int32_t>& tokens) override {
    const EncoderSequence seq{tokens, {}};
    SOV_RETURN_IF_ERROR(encoder_.forward(std::span<const EncoderSequence>(&seq, 1)));
    const size_t n = static_cast<size_t>(encoder_.seq_len(0)) * n_embd();
    return std::vector<float>(encoder_.state(0), encoder_.state(0) + n);
  }

 private:
  std::shared_ptr<const EncoderModel> model_;
  Encoder encoder_;
  std::vector<EncoderSequence> seqs_;
};

// How many ids the tokenizer appends after the text when it adds special tokens: [SEP] for
// WordPiece, EOS for vocabularies that ask for it. Found by encoding a probe text with and
// without special tokens.
int32_t trailing_special_count(const tokenizer::Tokenizer& tok) {
  const std::vector<int32_t> with = tok.encode("a", true, false);
  const std::vector<int32_t> without = tok.encode("a", false, false);
  if (without.empty() || with.size() < without.size()) return 0;
  auto it = std::search(with.begin(), with.end(), without.begin(), without.end());
  if (it == with.end()) return 0;
  return static_cast<int32_t>(with.end() - (it + static_cast<std::ptrdiff_t>(without.size())));
}

}  // namespace

EmbeddingModel::EmbeddingModel(std::unique_ptr<EmbeddingBackend> backend,
                               std::unique_ptr<tokenizer::Tokenizer> tok, EmbeddingModelParams params,
                               std::unique_ptr<ThreadPool> own_pool)
    : tokenizer_(std::move(tok)),
      n_batch_(std::max<int32_t>(1, params.n_batch)),
      own_pool_(std::move(own_pool)),
      backend_(std::move(backend)) {
  special_tail_ = trailing_special_count(*tokenizer_);
}

bool EmbeddingModel::is_embedding_arch(std::string_view arch) {
  return EncoderModel::supports_arch(arch);
}

namespace {

Status check_params(const EmbeddingModelParams& params) {
  if (params.n_threads < 0 || params.n_threads > 1024) {
    return Status::invalid_argument(fmt::format("{} threads is out of range", params.n_threads));
  }
  if (params.n_ctx < 0) return Status::invalid_argument("n_ctx must not be negative");
  return Status::ok();
}

Status check_vocab(const tokenizer::Tokenizer& tok, int32_t rows) {
  if (tok.n_vocab() > rows) {
    return Status::corrupt(
        fmt::format("the tokenizer has {} tokens but token_embd.weight only {} rows", tok.n_vocab(), rows));
  }
  return Status::ok();
}

DecoderEmbedderParams decoder_params(const EmbeddingModelParams& params) {
  DecoderEmbedderParams dp;
  dp.n_threads = params.n_threads;
  dp.n_ctx = params.n_ctx;
  dp.n_batch = std::min<int32_t>(std::max<int32_t>(1, params.n_batch), 512);
  return dp;
}

}  // namespace

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::load(std::shared_ptr<const gguf::File> file,
                                                             EmbeddingModelParams params) {
  SOV_RETURN_IF_ERROR(check_params(params));
  SOV_ASSIGN_OR_RETURN(std::string arch, file->get_string("general.architecture"));
  if (!EncoderModel::supports_arch(arch)) {
    SOV_ASSIGN_OR_RETURN(auto model, Model::load(file));
    return from_decoder(std::move(model), params);
  }
  SOV_ASSIGN_OR_RETURN(auto model, EncoderModel::load(file));
  SOV_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::from_gguf(*file));
  SOV_RETURN_IF_ERROR(check_vocab(*tok, model->hparams().base.n_vocab));
  auto own_pool = params.pool == nullptr ? std::make_unique<ThreadPool>(params.n_threads) : nullptr;
  auto backend =
      std::make_unique<EncoderBackend>(std::move(model), params.pool ? params.pool : own_pool.get());
  return std::unique_ptr<EmbeddingModel>(
      new EmbeddingModel(std::move(backend), std::move(tok), params, std::move(own_pool)));
}

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::from_decoder(std::shared_ptr<const Model> model,
                                                                     EmbeddingModelParams params) {
  SOV_RETURN_IF_ERROR(check_params(params));
  SOV_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::from_gguf(model->file()));
  SOV_RETURN_IF_ERROR(check_vocab(*tok, model->hparams().n_vocab));
  SOV_ASSIGN_OR_RETURN(auto backend, DecoderEmbedder::create(std::move(model), decoder_params(params)));
  return std::unique_ptr<EmbeddingModel>(
      new EmbeddingModel(std::move(backend), std::move(tok), params, nullptr));
}

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::load(const std::string& path,
                                                             EmbeddingModelParams params) {
  auto file = gguf::File::open(path);
  if (!file) return file.status();
  auto model = load(std::make_shared<const gguf::File>(std::move(file).value()), params);
  if (!model) return model.status().with_context(path);
  return model;
}

std::vector<int32_t> EmbeddingModel::tokenize(std::string_view text) const {
  return tokenizer_->encode(text, /*add_special=*/true, /*parse_special=*/false);
}

void EmbeddingModel::truncate_ids(std::vector<int32_t>* ids, int32_t keep_tail, int32_t limit) const {
  const size_t ctx = static_cast<size_t>(limit > 0 ? std::min(limit, n_ctx()) : n_ctx());
  if (ids->size() <= ctx) return;
  const size_t tail = std::min<size_t>(static_cast<size_t>(std::max(0, keep_tail)), ctx);
  // [head of ctx - tail ids][the last `tail` ids]
  std::copy(ids->end() - static_cast<std::ptrdiff_t>(tail), ids->end(),
            ids->begin() + static_cast<std::ptrdiff_t>(ctx - tail));
  ids->resize(ctx);
}

Result<std::vector<std::vector<int32_t>>> EmbeddingModel::tokenize_all(const std::vector<std::string>& texts,
                                                                       bool truncate, int32_t limit) const {
  const int32_t ctx = limit > 0 ? std::min(limit, n_ctx()) : n_ctx();
  std::vector<std::vector<int32_t>> inputs;
  inputs.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    inputs.push_back(tokenize(texts[i]));
    if (inputs.back().size() > static_cast<size_t>(ctx)) {
      if (!truncate) {
        return Status::out_of_range(
            fmt::format("input {} has {} tokens, more than the context of {} (set truncate to cut it)", i,
                        inputs.back().size(), ctx));
      }
      truncate_ids(&inputs.back(), special_tail_, ctx);
    }
  }
  return inputs;
}

Result<EmbedResult> EmbeddingModel::embed(const std::vector<std::string>& texts,
                                          const EmbedOptions& options) {
  std::vector<std::vector<int32_t>> inputs;
  inputs.reserve(texts.size());
  for (const std::string& t : texts) inputs.push_back(tokenize(t));
  return run(std::move(inputs), options, special_tail_);
}

Result<EmbedResult> EmbeddingModel::embed_tokens(const std::vector<std::vector<int32_t>>& inputs,
                                                 const EmbedOptions& options) {
  return run(inputs, options, 0);
}

Result<EmbedResult> EmbeddingModel::run(std::vector<std::vector<int32_t>> inputs, const EmbedOptions& options,
                                        int32_t keep_tail) {
  const Pooling pooling = options.pooling.value_or(this->pooling());
  if (pooling == Pooling::kNone) {
    return Status::invalid_argument(
        "the model's pooling type is 'none' (one vector per token); ask for mean, cls or last pooling");
  }
  const int32_t d = n_embd();
  if (options.dimensions < 0 || options.dimensions > d) {
    return Status::invalid_argument(fmt::format(
        "dimensions {} is out of range: the model's embeddings have {} values", options.dimensions, d));
  }
  const int32_t dims = options.dimensions > 0 ? options.dimensions : d;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) return Status::invalid_argument(fmt::format("input {} has no tokens", i));
    if (inputs[i].size() > static_cast<size_t>(n_ctx())) {
      if (!options.truncate) {
        return Status::out_of_range(fmt::format(
            "input {} has {} tokens, more than the model's context of {} (set truncate to cut it)", i,
            inputs[i].size(), n_ctx()));
      }
      truncate_ids(&inputs[i], keep_tail);
    }
  }

  EmbedResult result;
  result.embeddings.resize(inputs.size());
  result.n_tokens.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    result.n_tokens[i] = static_cast<int32_t>(inputs[i].size());
    result.total_tokens += result.n_tokens[i];
  }

  std::lock_guard<std::mutex> lock(mutex_);
  const std::span<const std::vector<int32_t>> all(inputs);
  for (size_t first = 0; first < inputs.size();) {
    // A micro-batch: whole inputs, up to n_batch tokens (at least one input).
    int64_t tokens = 0;
    size_t end = first;
    while (end < inputs.size() &&
           (end == first || tokens + static_cast<int64_t>(inputs[end].size()) <= n_batch_)) {
      tokens += static_cast<int64_t>(inputs[end].size());
      ++end;
    }
    pooled_.resize((end - first) * static_cast<size_t>(d));
    SOV_RETURN_IF_ERROR(backend_->pool(all.subspan(first, end - first), pooling, pooled_.data()));
    for (size_t s = first; s < end; ++s) {
      const float* v = pooled_.data() + (s - first) * d;
      std::vector<float>& out = result.embeddings[s];
      out.assign(v, v + dims);
      if (options.normalize) l2_normalize(out.data(), dims);
    }
    first = end;
  }
  return result;
}

Result<std::vector<float>> EmbeddingModel::token_states(const std::vector<int32_t>& tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  return backend_->token_states(tokens);
}

}  // namespace sov::engine
