#include "engine/encoder/embedding_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/encoder/pooling.h"

namespace sov::engine {
namespace {

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

EmbeddingModel::EmbeddingModel(std::shared_ptr<const EncoderModel> model,
                               std::unique_ptr<tokenizer::Tokenizer> tok, EmbeddingModelParams params)
    : model_(std::move(model)),
      tokenizer_(std::move(tok)),
      n_batch_(std::max<int32_t>(1, params.n_batch)),
      own_pool_(params.pool == nullptr ? std::make_unique<ThreadPool>(params.n_threads) : nullptr),
      encoder_(model_, params.pool != nullptr ? params.pool : own_pool_.get()) {
  special_tail_ = trailing_special_count(*tokenizer_);
}

bool EmbeddingModel::is_embedding_arch(std::string_view arch) {
  return EncoderModel::supports_arch(arch);
}

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::load(std::shared_ptr<const gguf::File> file,
                                                             EmbeddingModelParams params) {
  if (params.n_threads < 0 || params.n_threads > 1024) {
    return Status::invalid_argument(fmt::format("{} threads is out of range", params.n_threads));
  }
  SOV_ASSIGN_OR_RETURN(auto model, EncoderModel::load(file));
  SOV_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::from_gguf(*file));
  if (tok->n_vocab() > model->hparams().base.n_vocab) {
    return Status::corrupt(fmt::format("the tokenizer has {} tokens but token_embd.weight only {} rows",
                                       tok->n_vocab(), model->hparams().base.n_vocab));
  }
  return std::unique_ptr<EmbeddingModel>(new EmbeddingModel(std::move(model), std::move(tok), params));
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

void EmbeddingModel::truncate_ids(std::vector<int32_t>* ids, int32_t keep_tail) const {
  const size_t ctx = static_cast<size_t>(n_ctx());
  if (ids->size() <= ctx) return;
  const size_t tail = std::min<size_t>(static_cast<size_t>(std::max(0, keep_tail)), ctx);
  // [head of ctx - tail ids][the last `tail` ids]
  std::copy(ids->end() - static_cast<std::ptrdiff_t>(tail), ids->end(),
            ids->begin() + static_cast<std::ptrdiff_t>(ctx - tail));
  ids->resize(ctx);
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
  std::vector<EncoderSequence> seqs;
  std::vector<float> pooled(static_cast<size_t>(d));
  for (size_t first = 0; first < inputs.size();) {
    // A micro-batch: whole inputs, up to n_batch tokens (at least one input).
    seqs.clear();
    int64_t tokens = 0;
    size_t end = first;
    while (end < inputs.size() &&
           (end == first || tokens + static_cast<int64_t>(inputs[end].size()) <= n_batch_)) {
      tokens += static_cast<int64_t>(inputs[end].size());
      seqs.push_back({inputs[end], {}});
      ++end;
    }
    SOV_RETURN_IF_ERROR(encoder_.forward(seqs));
    for (size_t s = 0; s < seqs.size(); ++s) {
      pool_states(encoder_.state(encoder_.seq_start(s)), static_cast<int64_t>(seqs[s].tokens.size()), d, d,
                  pooling, pooled.data());
      std::vector<float>& out = result.embeddings[first + s];
      out.assign(pooled.begin(), pooled.begin() + dims);
      if (options.normalize) l2_normalize(out.data(), dims);
    }
    first = end;
  }
  return result;
}

Result<std::vector<float>> EmbeddingModel::token_states(const std::vector<int32_t>& tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  const EncoderSequence seq{tokens, {}};
  SOV_RETURN_IF_ERROR(encoder_.forward(std::span<const EncoderSequence>(&seq, 1)));
  const size_t n = static_cast<size_t>(encoder_.seq_len(0)) * n_embd();
  return std::vector<float>(encoder_.state(0), encoder_.state(0) + n);
}

}  // namespace sov::engine
