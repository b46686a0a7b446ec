// Job: one generation request inside the Scheduler, and the channel through which its
// results flow back to the caller (an HTTP handler thread).
//
// The scheduler's worker thread pushes events (text chunks, then exactly one kDone or
// kError); the caller pulls them with next(). Text chunks are valid UTF-8 with stop strings
// removed. The caller cancels with cancel() (e.g. the client disconnected); the worker sees
// it before its next step, so at most one more token is generated, and frees the slot.
//
// Thread-safety: a Job is shared (shared_ptr) between the worker and one consumer; push /
// next / cancel are safe to call concurrently. One consumer per Job.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "scheduler/sequence.h"

namespace sov::scheduler {

// A hook that restricts which tokens may be sampled (the grammar engine plugs in here).
// apply() sets the logits of forbidden tokens to -inf; accept() advances its state. One
// instance per job, used only by the worker thread.
class LogitsConstraint {
 public:
  virtual ~LogitsConstraint() = default;
  virtual void apply(std::span<float> logits) = 0;
  virtual void accept(int32_t token) = 0;
};

struct JobStats;

struct JobRequest {
  std::vector<int32_t> prompt;  // must not be empty
  GenerateParams params;        // sampler, max_tokens (-1: no limit), stop strings, ignore_eos
  // Context positions this job may use (prompt + generated); 0 or more than the slot's
  // context means the slot's context.
  int32_t n_ctx = 0;
  // Log-probabilities: -1 none; 0..20: the sampled token's plus that many alternatives.
  int32_t top_logprobs = -1;
  std::shared_ptr<LogitsConstraint> constraint;  // optional
  // Called on the worker thread when the job ends for any reason (also when nobody reads its
  // events any more), e.g. for metrics. Must be quick and thread-safe.
  std::function<void(const JobStats&)> on_finish;
};

struct TokenLogprob {
  int32_t id = -1;
  std::string piece;  // the token's bytes (may be part of a UTF-8 character)
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely tokens, best first
};

struct JobStats {
  std::string done_reason;      // "stop", "length" or "cancelled"
  int32_t stop_index = -1;      // which stop string ended it, if one did
  int32_t n_prompt = 0;         // prompt tokens
  int32_t n_cached = 0;         // of which reused from the slot's cache
  int32_t n_generated = 0;      // sampled tokens (EOS not counted)
  int64_t queue_ns = 0;         // waiting for a slot
  int64_t prompt_ns = 0;        // from getting a slot to the first sampled token
  int64_t eval_ns = 0;          // from the first sampled token to the end
  std::vector<int32_t> tokens;  // the generated ids
};

struct JobEvent {
  enum class Kind { kText, kDone, kError };
  Kind kind = Kind::kText;
  std::string text;                    // kText (may be empty when only logprobs arrive)
  std::vector<TokenLogprob> logprobs;  // kText: tokens sampled since the last event
  JobStats stats;                      // kDone
  Status error;                        // kError
};

class Job {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Job(uint64_t id) : id_(id), created_(Clock::now()) {}

  // Waits up to `timeout` for the next event; false on timeout. After kDone or kError no
  // more events come.
  bool next(JobEvent* out, std::chrono::milliseconds timeout);
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // True once kDone or kError has been pushed.
  bool finished() const;
  uint64_t id() const { return id_; }
  Clock::time_point created() const { return created_; }

  // Worker side.
  void push(JobEvent event);

 private:
  const uint64_t id_;
  const Clock::time_point created_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<JobEvent> events_;
  bool finished_ = false;
};

}  // namespace sov::scheduler
