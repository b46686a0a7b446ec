#include "server/generation.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"
#include "server/grammar_constraint.h"

namespace sov::server {
namespace {

using scheduler::JobEvent;

constexpr auto kWatchInterval = std::chrono::milliseconds(100);
constexpr auto kWait = std::chrono::milliseconds(50);

double seconds(Generation::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Generation::Generation(std::shared_ptr<ModelLease> lease, std::vector<std::shared_ptr<scheduler::Job>> jobs,
                       ConnectionWatch watch, Clock::time_point start, std::vector<int32_t> prompt)
    : lease_(std::move(lease)),
      runner_(lease_->runner_ptr()),
      jobs_(std::move(jobs)),
      done_(jobs_.size(), false),
      got_text_(jobs_.size(), false),
      watch_(watch),
      start_(start),
      last_watch_check_(Clock::now()),
      load_ns_(lease_->load_ns()),
      prompt_(std::move(prompt)) {}

Generation::~Generation() {
  cancel_all();
}

void Generation::cancel_all() {
  for (auto& j : jobs_) j->cancel();
}

int64_t Generation::total_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
}

void Generation::on_finished(size_t index, const JobEvent& event) {
  done_[index] = true;
  ++n_done_;
  if (n_done_ == jobs_.size()) lease_.reset();  // keep_alive applies now
}

bool Generation::await_first_event(Clock::time_point deadline) {
  JobEvent event;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (jobs_[0]->next(&event, std::min<std::chrono::milliseconds>(left + std::chrono::milliseconds(1),
                                                                   kWatchInterval))) {
      first_event_ = std::move(event);
      return true;
    }
    if (watch_.closed()) return true;  // next() reports it
  }
}

Generation::Poll Generation::next(size_t* index, JobEvent* event) {
  if (first_event_) {
    *event = std::move(*first_event_);
    first_event_.reset();
    *index = 0;
    if (event->kind != JobEvent::Kind::kText) on_finished(0, *event);
    return Poll::kEvent;
  }
  for (;;) {
    if (n_done_ == jobs_.size()) return Poll::kFinished;
    // Checked by time, not only when idle: events may arrive faster than the interval.
    if (Clock::now() - last_watch_check_ >= kWatchInterval) {
      last_watch_check_ = Clock::now();
      if (watch_.closed()) {
        cancel_all();
        return Poll::kClientGone;
      }
    }
    // Round-robin over unfinished jobs without waiting, then wait on one of them.
    for (size_t k = 0; k < jobs_.size(); ++k) {
      size_t i = (rr_ + k) % jobs_.size();
      if (done_[i]) continue;
      if (jobs_[i]->next(event, std::chrono::milliseconds(0))) {
        rr_ = i + 1;
        *index = i;
        if (event->kind != JobEvent::Kind::kText) on_finished(i, *event);
        return Poll::kEvent;
      }
    }
    size_t first = 0;
    while (done_[first]) ++first;
    if (jobs_[first]->next(event, jobs_.size() == 1 ? kWatchInterval : kWait)) {
      *index = first;
      if (event->kind != JobEvent::Kind::kText) on_finished(first, *event);
      return Poll::kEvent;
    }
  }
}

Result<std::shared_ptr<Generation>> start_generation(ModelManager& manager, std::shared_ptr<ModelLease> lease,
                                                     GenerationSpec spec, const httplib::Request& req,
                                                     Metrics* metrics, Generation::Clock::time_point start) {
  const Runner& runner = lease->runner();
  const int32_t trained = runner.model->hparams().n_ctx_train;
  const int32_t n_ctx = spec.options.num_ctx > 0 ? spec.options.num_ctx : manager.default_ctx(trained);
  auto& tokens = spec.prompt.tokens;
  if (tokens.empty()) return Status::invalid_argument("the prompt is empty after formatting");
  if (static_cast<int64_t>(tokens.size()) > n_ctx) {
    if (!spec.options.truncate) {
      return Status::invalid_argument(
          fmt::format("the prompt is {} tokens but the context length is {}; raise num_ctx (\"options\": "
                      "{{\"num_ctx\": N}}), "
                      "shorten the prompt, or set \"truncate\": true to keep only its end",
                      tokens.size(), n_ctx));
    }
    const int32_t reserve = spec.options.num_predict > 0 ? spec.options.num_predict : n_ctx / 4;
    const size_t before = tokens.size();
    tokens = truncate_prompt(tokens, n_ctx, reserve, runner.tokenizer->bos());
    log::info("prompt truncated from {} to {} tokens (truncate requested)", before, tokens.size());
  }
  std::vector<std::shared_ptr<scheduler::Job>> jobs;
  for (int32_t i = 0; i < spec.n; ++i) {
    scheduler::JobRequest jr;
    jr.prompt = tokens;
    jr.params.sampler = spec.options.sampler;
    if (spec.n > 1 && jr.params.sampler.seed != sampling::SamplerParams::kRandomSeed) {
      jr.params.sampler.seed += static_cast<uint64_t>(i);  // distinct but reproducible choices
    }
    jr.params.max_tokens = spec.options.num_predict;
    jr.params.stop = spec.options.stop;
    jr.params.stop.insert(jr.params.stop.end(), spec.prompt.stops.begin(), spec.prompt.stops.end());
    jr.n_ctx = n_ctx;
    jr.top_logprobs = spec.top_logprobs;
    if (spec.grammar) {
      jr.constraint = std::make_shared<GrammarConstraint>(spec.grammar, vocab_index(runner.tokenizer));
    }
    if (metrics) {
      // Recorded by the worker, so that cancelled generations count too.
      jr.on_finish = [metrics, name = runner.entry.name, start](const scheduler::JobStats& st) {
        const double ttft =
            st.n_generated > 0
                ? seconds(Generation::Clock::now() - start) -
                      std::chrono::duration<double>(std::chrono::nanoseconds(st.eval_ns)).count()
                : -1;
        metrics->record_generation(name, st, ttft);
      };
    }
    auto job = runner.scheduler->submit(std::move(jr));
    if (!job) {
      for (auto& j : jobs) j->cancel();
      return job.status();
    }
    jobs.push_back(*job);
  }
  auto gen = std::make_shared<Generation>(std::move(lease), std::move(jobs),
                                          ConnectionWatch::for_request(req), start, std::move(tokens));
  if (auto deadline = FirstEventDeadline::current(); deadline && !gen->await_first_event(*deadline)) {
    gen->cancel_all();
    return Status::resource_exhausted("the local model did not start answering in time");
  }
  return gen;
}

namespace {
thread_local std::optional<Generation::Clock::time_point> t_first_event_deadline;
}  // namespace

FirstEventDeadline::FirstEventDeadline(Generation::Clock::time_point deadline)
    : previous_(t_first_event_deadline) {
  t_first_event_deadline = deadline;
}

FirstEventDeadline::~FirstEventDeadline() {
  t_first_event_deadline = previous_;
}

std::optional<Generation::Clock::time_point> FirstEventDeadline::current() {
  return t_first_event_deadline;
}

void stream_generation(httplib::Response& res, const char* content_type, std::shared_ptr<Generation> gen,
                       std::shared_ptr<StreamFormatter> formatter) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(content_type, [gen, formatter](size_t, httplib::DataSink& sink) {
    size_t index = 0;
    JobEvent event;
    std::string out;
    switch (gen->next(&index, &event)) {
      case Generation::Poll::kClientGone: return false;
      case Generation::Poll::kFinished:
        out = formatter->on_end();
        if (!out.empty()) sink.write(out.data(), out.size());
        sink.done();
        return true;
      case Generation::Poll::kEvent: break;
    }
    bool end = false;
    switch (event.kind) {
      case JobEvent::Kind::kText: out = formatter->on_text(index, event); break;
      case JobEvent::Kind::kDone: out = formatter->on_done(index, event.stats); break;
      case JobEvent::Kind::kError:
        gen->cancel_all();
        out = formatter->on_error(event.error);
        end = true;
        break;
    }
    if (!out.empty() && !sink.write(out.data(), out.size())) {
      gen->cancel_all();  // the client went away
      return false;
    }
    if (end) sink.done();
    return true;
  });
}

Result<std::vector<CollectedChoice>> collect_generation(Generation& gen) {
  std::vector<CollectedChoice> choices(gen.size());
  size_t index = 0;
  JobEvent event;
  for (;;) {
    switch (gen.next(&index, &event)) {
      case Generation::Poll::kClientGone: return Status::cancelled("the client disconnected");
      case Generation::Poll::kFinished: return choices;
      case Generation::Poll::kEvent: break;
    }
    CollectedChoice& c = choices[index];
    switch (event.kind) {
      case JobEvent::Kind::kText:
        c.text += event.text;
        for (auto& lp : event.logprobs) c.logprobs.push_back(std::move(lp));
        break;
      case JobEvent::Kind::kDone: c.stats = std::move(event.stats); break;
      case JobEvent::Kind::kError: gen.cancel_all(); return event.error;
    }
  }
}

}  // namespace sov::server
