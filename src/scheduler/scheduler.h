// Scheduler: serves many generation requests on one model with continuous batching.
//
// It owns one engine Context with n_slots sequences (slots) and one worker thread. Jobs
// wait in a bounded FIFO queue until a slot is free; the slot chosen is the free one whose
// cached tokens share the longest prefix with the job's prompt (the prefix cache: a
// repeated system prompt or chat history is not evaluated again). Each step of the worker
// builds one batch from all busy slots: one token for every generating slot plus a chunk of
// pending prompt tokens (round-robin among prefilling slots, n_batch tokens per step at
// most), runs one decode_batch, then samples for each slot that got logits. Every
// generating job therefore advances by one token per step (fair interleaving), and a
// cancelled job is dropped before the next step.
//
// Greedy results do not depend on batching: each sequence attends only to its own cache
// and the engine evaluates every row of a batch independently.
//
// Thread-safety: submit(), stats() and the destructor may be called from any thread.
// Destroying the Scheduler stops the worker; unfinished jobs end with a kError event.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/context.h"
#include "engine/model.h"
#include "scheduler/compute_gate.h"
#include "scheduler/job.h"
#include "tokenizer/tokenizer.h"

namespace sov::scheduler {

struct SchedulerParams {
  int32_t n_slots = 1;    // parallel sequences
  int32_t n_ctx = 0;      // positions per slot; 0: engine default (min(4096, trained))
  int32_t n_batch = 256;  // tokens per forward pass (prompt chunks + generating slots)
  int n_threads = 0;      // engine threads; 0: physical cores
  size_t max_queue = 64;  // jobs waiting for a slot; more are refused
  // The KV cache's element type: half precision by default, as llama.cpp and Ollama (half the
  // memory per slot and faster attention); F32 for exact keys and values.
  engine::KvType kv_type = engine::KvType::kF16;
  // Not owned; when set, every forward pass takes a turn on it (shared with other models'
  // schedulers and embedding work, so that they alternate instead of fighting for cores).
  ComputeGate* gate = nullptr;
};

struct SchedulerStats {
  size_t queued = 0;              // waiting for a slot
  size_t active = 0;              // in a slot
  uint64_t prompt_tokens = 0;     // evaluated (not reused) prompt tokens, cumulative
  uint64_t cached_tokens = 0;     // prompt tokens reused from a slot's cache, cumulative
  uint64_t generated_tokens = 0;  // cumulative
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> create(std::shared_ptr<const engine::Model> model,
                                                   std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                                   SchedulerParams params);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job. Fails with kInvalidArgument (empty prompt, bad token id, bad sampler
  // options), kOutOfRange (the prompt does not fit the context) or kResourceExhausted (the
  // queue is full).
  Result<std::shared_ptr<Job>> submit(JobRequest request);

  SchedulerStats stats() const;
  // No job queued or running.
  bool idle() const;
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_slots() const { return static_cast<int32_t>(slots_.size()); }
  // Bytes of the KV cache and buffers (an estimate, for memory accounting).
  uint64_t context_bytes() const { return context_bytes_; }
  // The same estimate before creating a scheduler (n_ctx must be resolved, not 0).
  static uint64_t estimate_context_bytes(const engine::HParams& hp, const SchedulerParams& params);
  const engine::Model& model() const { return *model_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  struct Slot;
  struct Pending {
    std::shared_ptr<Job> job;
    JobRequest request;
  };

  Scheduler(std::shared_ptr<const engine::Model> model, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
            std::unique_ptr<engine::Context> ctx, SchedulerParams params);
  void run();
  // Moves queued jobs into free slots. Called with mu_ held.
  void assign_locked();
  void start(Slot& slot, Pending pending);
  bool step();  // one batch; false when there was nothing to do
  void sample(Slot& slot, std::span<const float> logits);
  void emit(Slot& slot, const std::string& text);
  void finish(Slot& slot, const std::string& reason);
  void fail(Slot& slot, const Status& status);
  // Frees the slot and returns its job, for the final event.
  std::shared_ptr<Job> release(Slot& slot);

  std::shared_ptr<const engine::Model> model_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<engine::Context> ctx_;
  const SchedulerParams params_;
  const int32_t n_ctx_;
  uint64_t context_bytes_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
  size_t prefill_rr_ = 0;  // round-robin start among prefilling slots
  uint64_t use_clock_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t active_ = 0;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::atomic<uint64_t> prompt_tokens_{0}, cached_tokens_{0}, generated_tokens_{0};
  std::thread worker_;
};

}  // namespace sov::scheduler
