#include "scheduler/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "base/log.h"
#include "sampling/stop_matcher.h"
#include "scheduler/logprobs.h"
#include "tokenizer/stream_detokenizer.h"

namespace sov::scheduler {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

constexpr int32_t kMaxTopLogprobs = 20;

}  // namespace

// One sequence of the Context and, while busy, the state of the job it runs.
struct Scheduler::Slot {
  int32_t seq = 0;
  std::vector<int32_t> cached;  // ids whose keys/values are in this sequence's cache
  uint64_t last_used = 0;

  std::shared_ptr<Job> job;  // null when free
  JobRequest req;
  size_t prompt_done = 0;  // prompt tokens in the cache
  int32_t pending = -1;    // sampled token to feed at the next step
  int32_t limit = 0;       // context positions this job may use
  std::optional<sampling::Sampler> sampler;
  std::optional<sampling::StopMatcher> stops;
  std::optional<tokenizer::StreamDetokenizer> detok;
  JobStats stats;
  Clock::time_point started, first_token;
  std::vector<TokenLogprob> logprobs;  // not yet sent
  std::vector<float> work;             // logits copy for a constraint

  bool busy() const { return job != nullptr; }
  bool prefilling() const { return busy() && prompt_done < req.prompt.size(); }
};

Result<std::unique_ptr<Scheduler>> Scheduler::create(std::shared_ptr<const engine::Model> model,
                                                     std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                                     SchedulerParams params) {
  if (!model || !tokenizer) return Status::invalid_argument("scheduler needs a model and a tokenizer");
  if (params.n_slots < 1 || params.n_slots > 256) {
    return Status::invalid_argument(fmt::format("parallel sequences must be 1..256, got {}", params.n_slots));
  }
  if (params.n_batch < 1) return Status::invalid_argument("n_batch must be positive");
  engine::ContextParams cp;
  cp.n_ctx = params.n_ctx;
  cp.n_seq = params.n_slots;
  cp.n_batch = params.n_batch;
  cp.n_threads = params.n_threads;
  cp.kv_type = params.kv_type;
  SOV_ASSIGN_OR_RETURN(auto ctx, engine::Context::create(model, cp));
  return std::unique_ptr<Scheduler>(
      new Scheduler(std::move(model), std::move(tokenizer), std::move(ctx), params));
}

Scheduler::Scheduler(std::shared_ptr<const engine::Model> model,
                     std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                     std::unique_ptr<engine::Context> ctx, SchedulerParams params)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      ctx_(std::move(ctx)),
      params_(params),
      n_ctx_(ctx_->n_ctx()) {
  SchedulerParams resolved = params;
  resolved.n_ctx = n_ctx_;
  context_bytes_ = estimate_context_bytes(model_->hparams(), resolved);
  for (int32_t i = 0; i < params.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->seq = i;
    slots_.push_back(std::move(slot));
  }
  worker_ = std::thread([this] { run(); });
}

uint64_t Scheduler::estimate_context_bytes(const engine::HParams& hp, const SchedulerParams& params) {
  // KV cache (keys and values) plus the activations of one micro-batch.
  const uint64_t kv = 2ull * hp.n_layer * static_cast<uint64_t>(params.n_slots) *
                      static_cast<uint64_t>(params.n_ctx) * hp.n_embd_kv() *
                      engine::kv_type_bytes(params.kv_type);
  const uint64_t act =
      static_cast<uint64_t>(params.n_batch) * (8ull * hp.n_embd + 3ull * hp.n_ff + hp.n_vocab) * 4;
  return kv + act;
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  const Status gone = Status::cancelled("the model was unloaded before the request finished");
  for (auto& slot : slots_) {
    if (slot->busy()) fail(*slot, gone);
  }
  for (Pending& p : queue_) {
    JobEvent e;
    e.kind = JobEvent::Kind::kError;
    e.error = gone;
    p.job->push(std::move(e));
  }
}

Result<std::shared_ptr<Job>> Scheduler::submit(JobRequest request) {
  if (request.prompt.empty()) return Status::invalid_argument("the prompt is empty");
  const int32_t n_vocab = model_->hparams().n_vocab;
  for (int32_t id : request.prompt) {
    if (id < 0 || id >= n_vocab) {
      return Status::invalid_argument(
          fmt::format("token id {} is outside the vocabulary (0..{})", id, n_vocab - 1));
    }
  }
  const int32_t limit = request.n_ctx > 0 ? std::min(request.n_ctx, n_ctx_) : n_ctx_;
  if (static_cast<int64_t>(request.prompt.size()) > limit) {
    return Status::out_of_range(
        fmt::format("the prompt has {} tokens but the context holds {}", request.prompt.size(), limit));
  }
  SOV_RETURN_IF_ERROR(request.params.sampler.validate());
  if (request.top_logprobs > kMaxTopLogprobs) {
    return Status::invalid_argument(fmt::format("top_logprobs must be at most {}", kMaxTopLogprobs));
  }
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    if (stop_) return Status::cancelled("the model is being unloaded");
    if (queue_.size() >= params_.max_queue) {
      return Status::resource_exhausted(
          fmt::format("the request queue is full ({} waiting); try again later", queue_.size()));
    }
    job = std::make_shared<Job>(next_id_++);
    queue_.push_back(Pending{job, std::move(request)});
  }
  cv_.notify_all();
  return job;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  {
    std::lock_guard lock(mu_);
    s.queued = queue_.size();
    s.active = active_;
  }
  s.prompt_tokens = prompt_tokens_.load();
  s.cached_tokens = cached_tokens_.load();
  s.generated_tokens = generated_tokens_.load();
  return s;
}

bool Scheduler::idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && active_ == 0;
}

void Scheduler::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty() || active_ > 0; });
      if (stop_) return;
      assign_locked();
    }
    for (auto& slot : slots_) {
      if (!slot->busy()) continue;
      if (slot->job->cancelled()) {
        finish(*slot, "cancelled");
      } else if (slot->req.params.max_tokens == 0) {
        finish(*slot, "length");  // nothing to generate (num_predict 0)
      }
    }
    try {
      step();
    } catch (const std::exception& e) {
      // Out of memory or a bug: fail the running jobs rather than the process.
      const Status s = Status::internal(fmt::format("generation failed: {}", e.what()));
      for (auto& slot : slots_) {
        if (slot->busy()) fail(*slot, s);
      }
    }
  }
}

void Scheduler::assign_locked() {
  while (!queue_.empty()) {
    Slot* best = nullptr;
    size_t best_prefix = 0;
    for (auto& slot : slots_) {
      if (slot->busy()) continue;
      size_t p = common_prefix(slot->cached, queue_.front().request.prompt);
      if (!best || p > best_prefix || (p == best_prefix && slot->last_used < best->last_used)) {
        best = slot.get();
        best_prefix = p;
      }
    }
    if (!best) return;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    if (p.job->cancelled()) {
      JobEvent e;
      e.kind = JobEvent::Kind::kDone;
      e.stats.done_reason = "cancelled";
      e.stats.n_prompt = static_cast<int32_t>(p.request.prompt.size());
      if (p.request.on_finish) p.request.on_finish(e.stats);
      p.job->push(std::move(e));
      continue;
    }
    start(*best, std::move(p));
  }
}

void Scheduler::start(Slot& slot, Pending p) {
  slot.job = std::move(p.job);
  slot.req = std::move(p.request);
  const auto& prompt = slot.req.prompt;
  // Reuse the shared prefix, but evaluate at least the last prompt token for fresh logits.
  const size_t keep = std::min(common_prefix(slot.cached, prompt), prompt.size() - 1);
  ctx_->truncate(slot.seq, static_cast<int32_t>(keep));
  slot.cached.resize(keep);
  slot.prompt_done = keep;
  slot.pending = -1;
  slot.limit = slot.req.n_ctx > 0 ? std::min(slot.req.n_ctx, n_ctx_) : n_ctx_;
  slot.sampler.emplace(slot.req.params.sampler, model_->hparams().n_vocab);
  for (int32_t id : prompt) slot.sampler->accept(id);
  slot.stops.emplace(slot.req.params.stop);
  slot.detok.emplace(*tokenizer_, /*skip_special=*/true, /*at_start=*/false);
  slot.stats = JobStats{};
  slot.stats.n_prompt = static_cast<int32_t>(prompt.size());
  slot.stats.n_cached = static_cast<int32_t>(keep);
  slot.started = Clock::now();
  slot.stats.queue_ns = ns_between(slot.job->created(), slot.started);
  slot.logprobs.clear();
  prompt_tokens_ += prompt.size() - keep;
  cached_tokens_ += keep;
  ++active_;
}

bool Scheduler::step() {
  std::vector<engine::BatchToken> batch;
  std::vector<Slot*> owner;
  for (auto& slot : slots_) {
    if (slot->busy() && slot->pending >= 0) {
      batch.push_back({slot->seq, slot->pending, true});
      owner.push_back(slot.get());
    }
  }
  // Prompt chunks fill the rest of the batch, round-robin so that one long prompt does not
  // starve the others; generating slots always advance.
  int32_t budget = std::max<int32_t>(params_.n_batch - static_cast<int32_t>(batch.size()), 16);
  const size_t n = slots_.size();
  for (size_t k = 0; k < n && budget > 0; ++k) {
    Slot& slot = *slots_[(prefill_rr_ + k) % n];
    if (!slot.prefilling()) continue;
    const size_t total = slot.req.prompt.size();
    const size_t take = std::min<size_t>(total - slot.prompt_done, static_cast<size_t>(budget));
    for (size_t i = 0; i < take; ++i) {
      const size_t pos = slot.prompt_done + i;
      batch.push_back({slot.seq, slot.req.prompt[pos], pos + 1 == total});
      owner.push_back(&slot);
    }
    budget -= static_cast<int32_t>(take);
  }
  prefill_rr_ = (prefill_rr_ + 1) % n;
  if (batch.empty()) return false;

  Status s;
  {
    ComputeGate::Turn turn = params_.gate != nullptr ? params_.gate->enter() : ComputeGate::Turn();
    s = ctx_->decode_batch(batch);
  }
  if (!s) {
    for (Slot* slot : owner) {
      if (slot->busy()) fail(*slot, s);
    }
    return true;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *owner[i];
    if (!slot.busy()) continue;
    slot.cached.push_back(batch[i].token);
    if (slot.pending >= 0) {  // a generating slot's one token
      slot.pending = -1;
    } else {
      ++slot.prompt_done;
    }
    if (batch[i].want_logits) sample(slot, ctx_->batch_logits(i));
  }
  return true;
}

void Scheduler::sample(Slot& slot, std::span<const float> logits) {
  std::span<const float> use = logits;
  if (slot.req.constraint) {
    slot.work.assign(logits.begin(), logits.end());
    slot.req.constraint->apply(slot.work);
    use = slot.work;
  }
  const int32_t id = slot.sampler->sample(use);
  slot.sampler->accept(id);
  if (slot.req.constraint) slot.req.constraint->accept(id);
  if (slot.stats.n_generated == 0) {
    slot.first_token = Clock::now();
    slot.stats.prompt_ns = ns_between(slot.started, slot.first_token);
  }
  if (!slot.req.params.ignore_eos && tokenizer_->is_eog(id)) {
    finish(slot, "stop");
    return;
  }
  if (slot.req.top_logprobs >= 0) {
    StepLogprobs lp = compute_logprobs(logits, id, slot.req.top_logprobs);
    slot.logprobs.push_back(TokenLogprob{id, tokenizer_->piece(id), lp.chosen, std::move(lp.top)});
  }
  slot.stats.tokens.push_back(id);
  ++slot.stats.n_generated;
  ++generated_tokens_;
  emit(slot, slot.detok->push(id));
  if (!slot.busy()) return;
  const auto& p = slot.req.params;
  if (p.max_tokens >= 0 && slot.stats.n_generated >= p.max_tokens) {
    finish(slot, "length");
  } else if (ctx_->n_past(slot.seq) >= slot.limit) {
    finish(slot, "length");
  } else if (slot.job->cancelled()) {
    finish(slot, "cancelled");
  } else {
    slot.pending = id;
  }
}

void Scheduler::emit(Slot& slot, const std::string& text) {
  sampling::StopMatcher::Output out;
  if (!text.empty()) out = slot.stops->feed(text);
  if (!out.text.empty() || !slot.logprobs.empty()) {
    JobEvent e;
    e.text = std::move(out.text);
    e.logprobs = std::move(slot.logprobs);
    slot.logprobs.clear();
    slot.job->push(std::move(e));
  }
  if (out.stopped) {
    slot.stats.stop_index = out.stop_index;
    finish(slot, "stop");
  }
}

void Scheduler::finish(Slot& slot, const std::string& reason) {
  std::string reason_out = reason;
  if (reason != "cancelled" && !slot.stops->stopped()) {
    // Release what the detokenizer and the stop matcher still hold back.
    auto out = slot.stops->feed(slot.detok->flush());
    std::string text = std::move(out.text);
    if (out.stopped) {
      slot.stats.stop_index = out.stop_index;
      reason_out = "stop";
    } else {
      text += slot.stops->flush();
    }
    if (!text.empty() || !slot.logprobs.empty()) {
      JobEvent e;
      e.text = std::move(text);
      e.logprobs = std::move(slot.logprobs);
      slot.job->push(std::move(e));
    }
  }
  const auto now = Clock::now();
  if (slot.stats.n_generated > 0) {
    slot.stats.eval_ns = ns_between(slot.first_token, now);
  } else if (slot.stats.prompt_ns == 0) {
    slot.stats.prompt_ns = ns_between(slot.started, now);
  }
  JobEvent done;
  done.kind = JobEvent::Kind::kDone;
  done.stats = std::move(slot.stats);
  done.stats.done_reason = reason_out;
  if (slot.req.on_finish) slot.req.on_finish(done.stats);
  slot.last_used = ++use_clock_;
  release(slot)->push(std::move(done));
}

std::shared_ptr<Job> Scheduler::release(Slot& slot) {
  std::shared_ptr<Job> job = std::move(slot.job);
  slot.job.reset();
  slot.pending = -1;
  slot.req = JobRequest{};
  slot.logprobs.clear();
  {
    // Before the final event, so that a caller who saw it also sees the slot free.
    std::lock_guard lock(mu_);
    --active_;
  }
  return job;
}

void Scheduler::fail(Slot& slot, const Status& status) {
  log::warn("generation failed: {}", status.to_string());
  JobEvent e;
  e.kind = JobEvent::Kind::kError;
  e.error = status;
  if (slot.req.on_finish) {
    JobStats st = slot.stats;
    st.done_reason = "error";
    slot.req.on_finish(st);
  }
  // The cache may not match `cached` any more: forget it.
  ctx_->truncate(slot.seq, 0);
  slot.cached.clear();
  release(slot)->push(std::move(e));
}

}  // namespace sov::scheduler
