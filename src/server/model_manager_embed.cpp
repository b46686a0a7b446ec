// The embedding side of ModelManager (model_manager.h): leases for embeddings, loading of
// encoder-only models, and the lazily created EmbeddingModel of a decoder runner.
#include <fmt/format.h>

#include <chrono>

#include "base/log.h"
#include "server/model_manager.h"

namespace sov::server {

// True when the GGUF's architecture is an encoder-only one (it cannot generate).
Result<bool> is_encoder_file(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return file.status();
  auto arch = file->get_string("general.architecture");
  if (!arch) return arch.status().with_context(path);
  return engine::EmbeddingModel::is_embedding_arch(*arch);
}

Status not_generative(const std::string& name) {
  return Status::invalid_argument(fmt::format(
      "\"{}\" does not support generate: it is an embedding model (use /api/embed or /v1/embeddings)", name));
}

Result<std::shared_ptr<ModelLease>> ModelManager::acquire_embedding(std::string_view name,
                                                                    KeepAlive keep_alive) {
  return acquire_impl(name, 0, keep_alive, /*embedding=*/true);
}

Result<std::shared_ptr<ModelLease>> ModelManager::load_encoder(const ModelEntry& entry,
                                                               KeepAlive keep_alive) {
  const auto t0 = std::chrono::steady_clock::now();
  // The file's size plus the activations of one micro-batch (a generous estimate).
  const uint64_t need = entry.size + (64ull << 20);
  std::vector<std::shared_ptr<Runner>> evicted;
  {
    std::lock_guard lock(mu_);
    SOV_ASSIGN_OR_RETURN(evicted, make_room_locked(need));
  }
  for (auto& r : evicted) log::info("unloaded model {} to make room", r->entry.name);
  evicted.clear();

  auto file = gguf::File::open(entry.path);
  if (!file) return file.status();
  auto shared = std::make_shared<const gguf::File>(std::move(file).value());
  engine::EmbeddingModelParams params;
  params.n_threads = config_.n_threads;
  params.n_batch = std::max<int32_t>(config_.n_batch, 512);
  auto embedder = engine::EmbeddingModel::load(shared, params);
  if (!embedder) return embedder.status().with_context(entry.name);

  auto r = std::make_shared<Runner>();
  r->entry = entry;
  r->info = read_model_info(*shared);
  r->n_ctx = (*embedder)->n_ctx();
  r->size_bytes = need;
  r->embedder = std::move(embedder).value();
  const int64_t load_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  log::info("loaded embedding model {} ({}, context {}) in {:.1f} ms", entry.name, r->embedder->arch(),
            r->n_ctx, load_ns / 1e6);
  {
    std::lock_guard lock(mu_);
    auto e = std::make_unique<Entry>();
    e->runner = r;
    e->leases = 1;
    e->last_used = ++use_clock_;
    entries_.push_back(std::move(e));
  }
  return std::shared_ptr<ModelLease>(new ModelLease(this, r, keep_alive, load_ns));
}

Result<std::shared_ptr<engine::EmbeddingModel>> ModelManager::embedder(const Runner& runner) {
  std::lock_guard lock(runner.embed_mu);
  if (runner.embedder) return runner.embedder;
  if (!runner.model) return Status::internal("the runner has neither a model nor an embedder");
  engine::EmbeddingModelParams params;
  params.n_threads = config_.n_threads;
  params.n_batch = std::max<int32_t>(config_.n_batch, 512);
  params.n_ctx = runner.n_ctx;
  SOV_ASSIGN_OR_RETURN(auto made, engine::EmbeddingModel::from_decoder(runner.model, params));
  runner.embedder = std::move(made);
  log::info("model {}: embeddings ready ({} pooling, context {})", runner.entry.name,
            engine::pooling_name(runner.embedder->pooling()), runner.embedder->n_ctx());
  return runner.embedder;
}

}  // namespace sov::server
