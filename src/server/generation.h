// Generation: the jobs of one HTTP request (several for OpenAI's n > 1) from submission to
// the last event, shared by the Ollama and OpenAI routes.
//
// start_generation() checks the prompt against the context (400 unless the client asked
// for truncation; never silent), submits the jobs (503 when the queue is full) and returns
// a Generation. Its events are then either streamed through a StreamFormatter (NDJSON or
// SSE; each chunk is written as soon as it exists) or collected for a single response.
// Either way the client's connection is watched: when it goes away every job is cancelled
// and its slot freed before the next token. The model lease is released as soon as the last
// job ends, before the final chunk is written, so keep_alive 0 has taken effect by the time
// the client reads the end of the response.
//
// A Generation is used by one thread at a time (the handler, then the content provider).
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "grammar/grammar.h"
#include "scheduler/job.h"
#include "server/connection_watch.h"
#include "server/metrics.h"
#include "server/model_manager.h"
#include "server/options.h"
#include "server/prompt.h"

namespace sov::server {

class Generation {
 public:
  using Clock = std::chrono::steady_clock;

  Generation(std::shared_ptr<ModelLease> lease, std::vector<std::shared_ptr<scheduler::Job>> jobs,
             ConnectionWatch watch, Clock::time_point start, std::vector<int32_t> prompt);
  ~Generation();  // cancels unfinished jobs

  enum class Poll { kEvent, kFinished, kClientGone };
  // The next event of any job (round-robin), waiting as needed. kFinished once every job has
  // ended; kClientGone (all jobs cancelled) when the client disconnected.
  Poll next(size_t* index, scheduler::JobEvent* event);
  void cancel_all();
  // Waits until the first job has an event (kept for next()) or `deadline` passes; false
  // when it passed.
  bool await_first_event(Clock::time_point deadline);

  size_t size() const { return jobs_.size(); }
  const Runner& runner() const { return *runner_; }
  int64_t load_ns() const { return load_ns_; }
  int64_t total_ns() const;
  Clock::time_point start() const { return start_; }
  // The prompt the jobs run on (after truncation, when it was asked for).
  const std::vector<int32_t>& prompt() const { return prompt_; }

 private:
  void on_finished(size_t index, const scheduler::JobEvent& event);

  std::shared_ptr<ModelLease> lease_;
  std::shared_ptr<Runner> runner_;  // outlives the lease for formatting
  std::vector<std::shared_ptr<scheduler::Job>> jobs_;
  std::vector<bool> done_;
  std::vector<bool> got_text_;
  size_t n_done_ = 0;
  size_t rr_ = 0;
  std::optional<scheduler::JobEvent> first_event_;  // from await_first_event, for job 0
  ConnectionWatch watch_;
  Clock::time_point start_;
  Clock::time_point last_watch_check_;
  int64_t load_ns_ = 0;
  std::vector<int32_t> prompt_;
};

struct GenerationSpec {
  BuiltPrompt prompt;
  GenOptions options;
  int32_t n = 1;              // choices
  int32_t top_logprobs = -1;  // -1: none
  // Structured output: every job's tokens are constrained to this grammar (nullptr: none).
  std::shared_ptr<const grammar::Grammar> grammar;
};

// A deadline for the first event (first token, or the end) of the generations started on
// this thread while it is in scope. The router sets it around a local handler that can
// fall back to an upstream: when it passes, start_generation cancels the jobs and fails
// with kResourceExhausted (503 before anything is sent), so the request falls back.
class FirstEventDeadline {
 public:
  explicit FirstEventDeadline(Generation::Clock::time_point deadline);
  ~FirstEventDeadline();
  FirstEventDeadline(const FirstEventDeadline&) = delete;
  FirstEventDeadline& operator=(const FirstEventDeadline&) = delete;
  static std::optional<Generation::Clock::time_point> current();

 private:
  std::optional<Generation::Clock::time_point> previous_;
};

// Submits the request's jobs. `num_ctx` of the options (or the model default) bounds the
// prompt and generation.
Result<std::shared_ptr<Generation>> start_generation(ModelManager& manager, std::shared_ptr<ModelLease> lease,
                                                     GenerationSpec spec, const httplib::Request& req,
                                                     Metrics* metrics, Generation::Clock::time_point start);

// Formats events as response bytes (NDJSON lines or SSE events).
class StreamFormatter {
 public:
  virtual ~StreamFormatter() = default;
  virtual std::string on_text(size_t index, const scheduler::JobEvent& event) = 0;
  virtual std::string on_done(size_t index, const scheduler::JobStats& stats) = 0;
  virtual std::string on_error(const Status& status) = 0;
  virtual std::string on_end() = 0;  // after every job finished
};

// Streams a Generation as a chunked response.
void stream_generation(httplib::Response& res, const char* content_type, std::shared_ptr<Generation> gen,
                       std::shared_ptr<StreamFormatter> formatter);

struct CollectedChoice {
  std::string text;
  std::vector<scheduler::TokenLogprob> logprobs;
  scheduler::JobStats stats;
};

// Waits for every job. kCancelled when the client left, or the first job error.
Result<std::vector<CollectedChoice>> collect_generation(Generation& gen);

}  // namespace sov::server
