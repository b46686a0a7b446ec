#include "server/kb_embedder.h"

#include <algorithm>

#include "server/duration.h"
#include "server/server.h"
#include "store/config.h"

namespace sov::server {
namespace {

constexpr int64_t kMinChunkTokens = 512;

// Texts as the knowledge base embeds them: truncated to the context, L2-normalised.
engine::EmbedOptions kb_options() {
  engine::EmbedOptions options;
  options.truncate = true;
  options.normalize = true;
  return options;
}

// A model leased from the ModelManager.
class LeasedEmbedder final : public kb::Embedder {
 public:
  LeasedEmbedder(std::shared_ptr<ModelLease> lease, std::shared_ptr<engine::EmbeddingModel> model,
                 scheduler::ComputeGate& gate, int64_t chunk_tokens)
      : lease_(std::move(lease)), model_(std::move(model)), gate_(gate), chunk_tokens_(chunk_tokens) {}

  int32_t dim() const override { return model_->n_embd(); }
  int32_t context() const override { return model_->n_ctx(); }
  int32_t count_tokens(std::string_view text) const override {
    return static_cast<int32_t>(model_->tokenizer().encode(text, false, false).size());
  }
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) override {
    SOV_ASSIGN_OR_RETURN(auto inputs, model_->tokenize_all(texts, /*truncate=*/true, model_->n_ctx()));
    SOV_ASSIGN_OR_RETURN(auto result,
                         embed_in_turns(gate_, *model_, std::move(inputs), kb_options(), chunk_tokens_));
    return std::move(result.embeddings);
  }

 private:
  std::shared_ptr<ModelLease> lease_;  // keeps the runner loaded
  std::shared_ptr<engine::EmbeddingModel> model_;
  scheduler::ComputeGate& gate_;
  int64_t chunk_tokens_;
};

// An embedder loaded outside the manager; each call is one gate turn (the knowledge base
// embeds at most a few dozen chunks per call).
class GatedEmbedder final : public kb::Embedder {
 public:
  GatedEmbedder(std::unique_ptr<kb::Embedder> inner, scheduler::ComputeGate& gate)
      : inner_(std::move(inner)), gate_(gate) {}

  int32_t dim() const override { return inner_->dim(); }
  int32_t context() const override { return inner_->context(); }
  int32_t count_tokens(std::string_view text) const override { return inner_->count_tokens(text); }
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) override {
    scheduler::ComputeGate::Turn turn = gate_.enter();
    return inner_->embed(texts);
  }

 private:
  std::unique_ptr<kb::Embedder> inner_;
  scheduler::ComputeGate& gate_;
};

}  // namespace

Result<engine::EmbedResult> embed_in_turns(scheduler::ComputeGate& gate, engine::EmbeddingModel& model,
                                           std::vector<std::vector<int32_t>> inputs,
                                           const engine::EmbedOptions& options, int64_t chunk_tokens,
                                           const std::function<bool()>& cancelled) {
  engine::EmbedResult out;
  out.embeddings.reserve(inputs.size());
  out.n_tokens.reserve(inputs.size());
  for (size_t first = 0; first < inputs.size();) {
    std::vector<std::vector<int32_t>> chunk;
    int64_t tokens = 0;
    size_t end = first;
    while (end < inputs.size() &&
           (end == first || tokens + static_cast<int64_t>(inputs[end].size()) <= chunk_tokens)) {
      tokens += static_cast<int64_t>(inputs[end].size());
      chunk.push_back(std::move(inputs[end]));
      ++end;
    }
    if (first > 0 && cancelled && cancelled()) return Status::cancelled("the client closed the connection");
    Result<engine::EmbedResult> res = Status::internal("not run");
    {
      scheduler::ComputeGate::Turn turn = gate.enter();
      res = model.embed_tokens(chunk, options);
    }
    if (!res) return res.status();
    for (auto& e : res->embeddings) out.embeddings.push_back(std::move(e));
    out.n_tokens.insert(out.n_tokens.end(), res->n_tokens.begin(), res->n_tokens.end());
    out.total_tokens += res->total_tokens;
    first = end;
  }
  return out;
}

int64_t embed_chunk_tokens(const ServerState& state) {
  return std::max<int64_t>(state.config.n_batch, kMinChunkTokens);
}

Result<std::shared_ptr<kb::Embedder>> kb_embedder(ServerState& state, LocalEmbedders& local,
                                                  const std::string& model) {
  if (model.empty()) return std::shared_ptr<kb::Embedder>();
  const auto env = store::process_environment();
  auto resolved = store::resolve_model_argument(model, env);
  if (resolved && resolved->is_file) {
    std::lock_guard lock(local.mutex);
    auto it = local.by_path.find(model);
    if (it != local.by_path.end()) return it->second;
    SOV_ASSIGN_OR_RETURN(auto loaded, kb::load_embedder(model, env, state.config.n_threads));
    auto gated = std::make_shared<GatedEmbedder>(std::move(loaded), state.manager.gate());
    local.by_path[model] = gated;
    return std::shared_ptr<kb::Embedder>(gated);
  }
  auto lease = state.manager.acquire_embedding(model, KeepAlive{});
  if (!lease) return lease.status().with_context("embedding model " + model);
  SOV_ASSIGN_OR_RETURN(auto engine_model, state.manager.embedder((*lease)->runner()));
  return std::shared_ptr<kb::Embedder>(std::make_shared<LeasedEmbedder>(
      std::move(lease).value(), std::move(engine_model), state.manager.gate(), embed_chunk_tokens(state)));
}

}  // namespace sov::server
