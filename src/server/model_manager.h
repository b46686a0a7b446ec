// ModelManager: which models are loaded, for how long, and within what memory.
//
// acquire() returns a lease on a loaded model (a Runner: weights, tokenizer, chat template
// and a Scheduler with the server's parallel slots), loading it on first use. While leased
// a model is never unloaded. When the last lease of a request ends, the model's expiry is
// set from that request's keep_alive (default 5 minutes; forever when negative; 0 unloads
// as soon as it is idle); a background thread unloads expired idle models. Loading a model
// that does not fit the memory budget (or the max loaded count) first unloads idle models,
// least recently used first; if the others are busy the request fails with
// kResourceExhausted (HTTP 503, retry later).
//
// A request asking for more context than the loaded runner has gets a new runner with that
// context; the old one serves its running requests and is freed when they end. Requests
// asking for less share the runner with a per-request limit.
//
// Embedding models: acquire_embedding() leases any model for embeddings. Encoder-only models
// (bert, nomic-bert) load as a Runner with only an EmbeddingModel (no scheduler) and are
// refused by acquire() (generation) with kInvalidArgument; decoders load as usual and get an
// EmbeddingModel next to their scheduler on first use (embedder()). Every scheduler's forward
// pass and every embedding micro-batch takes a turn on the manager's ComputeGate, so that
// chat and embedding traffic (of one or several models) alternate on the cores.
//
// Thread-safety: all methods are thread-safe. Loads are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "chat/chat_template.h"
#include "engine/encoder/embedding_model.h"
#include "engine/model.h"
#include "scheduler/compute_gate.h"
#include "scheduler/scheduler.h"
#include "server/config.h"
#include "server/model_info.h"
#include "server/model_resolver.h"
#include "tokenizer/tokenizer.h"

namespace sov::server {

// A loaded model. Immutable after creation (the Scheduler is itself thread-safe).
struct Runner {
  ModelEntry entry;  // name and file
  ModelInfo info;    // without digest
  std::shared_ptr<const engine::Model> model;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  std::optional<chat::ChatTemplate> chat_template;  // empty: the model has none (or it did not parse)
  int32_t n_ctx = 0;
  uint64_t size_bytes = 0;  // file + context
  // Embeddings: the only engine of an encoder-only model (then model, tokenizer and
  // scheduler are null); created on first use for a decoder (ModelManager::embedder).
  mutable std::mutex embed_mu;
  mutable std::shared_ptr<engine::EmbeddingModel> embedder;
  std::unique_ptr<scheduler::Scheduler> scheduler;  // last: destroyed first
  bool embedding_only() const { return scheduler == nullptr; }
};

class ModelManager;

// Keeps a model loaded while alive; on destruction sets its expiry from keep_alive.
class ModelLease {
 public:
  ~ModelLease();
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;
  const Runner& runner() const { return *runner_; }
  std::shared_ptr<Runner> runner_ptr() const { return runner_; }
  int64_t load_ns() const { return load_ns_; }
  // The keep_alive applied when the lease ends (the request's, or the server default).
  void set_keep_alive(KeepAlive k) { keep_alive_ = k; }

 private:
  friend class ModelManager;
  ModelLease(ModelManager* manager, std::shared_ptr<Runner> runner, KeepAlive keep_alive, int64_t load_ns)
      : manager_(manager), runner_(std::move(runner)), keep_alive_(keep_alive), load_ns_(load_ns) {}
  ModelManager* manager_;
  std::shared_ptr<Runner> runner_;
  KeepAlive keep_alive_;
  int64_t load_ns_;
};

struct LoadedModel {
  ModelEntry entry;
  ModelInfo info;
  uint64_t size_bytes = 0;
  int32_t n_ctx = 0;
  int32_t n_slots = 0;
  bool forever = false;
  bool busy = false;
  std::chrono::system_clock::time_point expires_at;
  scheduler::SchedulerStats stats;
};

class ModelManager {
 public:
  ModelManager(const ServerConfig& config, const ModelResolver& resolver);
  ~ModelManager();  // unloads everything (running requests end with an error)
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // num_ctx 0: the server default. Errors: kInvalidArgument / kNotFound from the resolver or
  // a num_ctx beyond the model's trained context; kResourceExhausted when memory is held by
  // busy models; others when the file does not load.
  Result<std::shared_ptr<ModelLease>> acquire(std::string_view name, int32_t num_ctx, KeepAlive keep_alive);
  // A lease for embeddings: any model (model_manager_embed.cpp). Errors as acquire().
  Result<std::shared_ptr<ModelLease>> acquire_embedding(std::string_view name, KeepAlive keep_alive);
  // The leased runner's EmbeddingModel (created for a decoder on first call).
  Result<std::shared_ptr<engine::EmbeddingModel>> embedder(const Runner& runner);
  // Forward passes of every model take turns here (see the top of this file).
  scheduler::ComputeGate& gate() { return gate_; }
  // Unloads a model now if idle, else as soon as it is idle. Returns false if not loaded.
  bool unload(std::string_view name);
  // Unloads every runner of a file (before deleting it); waits for nothing.
  void unload_path(const std::string& path);
  std::vector<LoadedModel> loaded() const;

  // The context a request gets for a model when it does not ask for one.
  int32_t default_ctx(int64_t trained) const;

 private:
  friend class ModelLease;
  struct Entry {
    std::shared_ptr<Runner> runner;
    int leases = 0;
    bool forever = false;
    std::chrono::steady_clock::time_point expires;  // when idle
    std::chrono::system_clock::time_point expires_wall;
    uint64_t last_used = 0;
    bool retired = false;  // replaced by a runner with a larger context
  };

  Result<std::shared_ptr<ModelLease>> acquire_impl(std::string_view name, int32_t num_ctx,
                                                   KeepAlive keep_alive, bool embedding);
  // Loads an encoder-only model as a Runner with an EmbeddingModel; called with load_mu_ held.
  Result<std::shared_ptr<ModelLease>> load_encoder(const ModelEntry& entry, KeepAlive keep_alive);
  void release(const std::shared_ptr<Runner>& runner, KeepAlive keep_alive);
  // Unloads idle runners (LRU first) until `need` more bytes and one more model fit.
  // Returns what to destroy outside the lock, or an error. Called with mu_ held.
  Result<std::vector<std::shared_ptr<Runner>>> make_room_locked(uint64_t need);
  void reap();

  const ServerConfig& config_;
  const ModelResolver& resolver_;
  scheduler::ComputeGate gate_;  // before the runners, whose schedulers use it
  mutable std::mutex mu_;
  std::mutex load_mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Entry>> entries_;
  uint64_t use_clock_ = 0;
  bool stop_ = false;
  std::thread reaper_;
};

}  // namespace sov::server
