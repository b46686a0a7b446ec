#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <latch>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/testdata.h"
#include "scheduler/logprobs.h"

namespace sov::scheduler {
namespace {

struct Model {
  std::shared_ptr<const engine::Model> model;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
};

Model load(const std::string& dir, const std::string& stem = "stories260K") {
  Model m;
  auto model = engine::Model::load(dir + "/models/" + stem + ".gguf");
  EXPECT_TRUE(model.is_ok()) << model.status().to_string();
  m.model = *model;
  auto tok = tokenizer::Tokenizer::from_gguf(m.model->file());
  EXPECT_TRUE(tok.is_ok());
  m.tok = std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok).value());
  return m;
}

std::unique_ptr<Scheduler> make(const Model& m, int slots, int32_t n_ctx = 256, size_t max_queue = 64,
                                int32_t n_batch = 64) {
  auto s = Scheduler::create(
      m.model, m.tok,
      {.n_slots = slots, .n_ctx = n_ctx, .n_batch = n_batch, .n_threads = 1, .max_queue = max_queue});
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return std::move(s).value();
}

JobRequest greedy(std::vector<int32_t> prompt, int32_t max_tokens) {
  JobRequest r;
  r.prompt = std::move(prompt);
  r.params.sampler.temperature = 0;
  r.params.sampler.repeat_penalty = 1;
  r.params.max_tokens = max_tokens;
  return r;
}

struct Collected {
  std::string text;
  JobStats stats;
  Status error;
  bool done = false;
  int text_events = 0;
  std::vector<TokenLogprob> logprobs;
};

Collected collect(Job& job, int cancel_after_events = -1) {
  Collected c;
  JobEvent e;
  while (job.next(&e, std::chrono::seconds(60))) {
    if (e.kind == JobEvent::Kind::kText) {
      c.text += e.text;
      ++c.text_events;
      for (auto& lp : e.logprobs) c.logprobs.push_back(std::move(lp));
      if (c.text_events == cancel_after_events) job.cancel();
      continue;
    }
    if (e.kind == JobEvent::Kind::kError) c.error = e.error;
    c.stats = std::move(e.stats);
    c.done = true;
    break;
  }
  return c;
}

// Reference: the single-sequence generation loop that `sov generate` uses.
std::string run_alone(const Model& m, const std::vector<int32_t>& prompt, int32_t max_tokens) {
  auto ctx = engine::Context::create(m.model, {.n_ctx = 256, .n_threads = 1});
  EXPECT_TRUE(ctx.is_ok());
  Sequence seq(std::move(ctx).value());
  std::string text;
  auto r = seq.run(prompt, *m.tok, greedy(prompt, max_tokens).params, [&](std::string_view t) {
    text += t;
    return true;
  });
  EXPECT_TRUE(r.is_ok());
  return text;
}

TEST(Scheduler, GreedyMatchesReferenceAndReusesPrefix) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  std::ifstream in(dir + "/reference/stories260K/greedy.json");
  auto ref = nlohmann::json::parse(in);
  std::ifstream tin(dir + "/reference/stories260K/tokens.json");
  auto ids = nlohmann::json::parse(tin)["ids"].get<std::vector<int32_t>>();

  auto s = make(m, 2);
  auto job = s->submit(greedy(ids, 16));
  ASSERT_TRUE(job.is_ok()) << job.status().to_string();
  Collected c = collect(**job);
  ASSERT_TRUE(c.done);
  EXPECT_EQ(c.stats.tokens, ref["ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(c.text, ref["text"].get<std::string>());
  EXPECT_EQ(c.stats.done_reason, "length");
  EXPECT_EQ(c.stats.n_cached, 0);
  EXPECT_EQ(c.stats.n_prompt, static_cast<int32_t>(ids.size()));
  EXPECT_GT(c.stats.prompt_ns, 0);

  // The same prompt goes to the slot that holds it: all but the last token are reused.
  auto again = s->submit(greedy(ids, 16));
  ASSERT_TRUE(again.is_ok());
  Collected c2 = collect(**again);
  EXPECT_EQ(c2.stats.n_cached, static_cast<int32_t>(ids.size()) - 1);
  EXPECT_EQ(c2.text, c.text);
  // A prompt that extends the previous conversation reuses it too.
  std::vector<int32_t> longer = ids;
  longer.insert(longer.end(), c.stats.tokens.begin(), c.stats.tokens.end());
  auto third = s->submit(greedy(longer, 4));
  ASSERT_TRUE(third.is_ok());
  Collected c3 = collect(**third);
  EXPECT_GE(c3.stats.n_cached, static_cast<int32_t>(ids.size()));
  EXPECT_TRUE(s->idle());
  EXPECT_GT(s->stats().cached_tokens, 0u);
}

TEST(Scheduler, BatchedResultsEqualUnbatchedResults) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const char* stem : {"stories260K", "TinyLLama-v0.Q4_0"}) {
    SCOPED_TRACE(stem);
    Model m = load(dir, stem);
    const std::vector<std::string> prompts = {
        "Once upon a time",     "The little dog",  "Tom and Sue went to the park", "One day, a big bird",
        "Lily had a red ball.", "There was a cat", "The sun was hot and the kids", "Mom said"};
    std::vector<std::string> alone;
    for (const auto& p : prompts) alone.push_back(run_alone(m, m.tok->encode(p, true, false), 24));

    // 8 jobs on 4 slots with small prompt chunks: prefill and generation interleave.
    auto s = make(m, 4, 256, 64, /*n_batch=*/8);
    std::vector<std::shared_ptr<Job>> jobs;
    for (const auto& p : prompts) {
      auto job = s->submit(greedy(m.tok->encode(p, true, false), 24));
      ASSERT_TRUE(job.is_ok());
      jobs.push_back(*job);
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      Collected c = collect(*jobs[i]);
      ASSERT_TRUE(c.done);
      EXPECT_TRUE(c.error.is_ok()) << c.error.to_string();
      EXPECT_EQ(c.text, alone[i]) << prompts[i];
      EXPECT_FALSE(c.text.empty());
    }
  }
}

TEST(Scheduler, ConcurrentConsumersAllComplete) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 4);
  std::vector<std::thread> threads;
  std::vector<Collected> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto job = s->submit(greedy(m.tok->encode("Once upon a time", true, false), 32));
      ASSERT_TRUE(job.is_ok());
      results[i] = collect(**job);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.text, results[0].text);
    EXPECT_EQ(r.stats.n_generated, 32);
  }
}

TEST(Scheduler, CancellationFreesTheSlot) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 1, 512);
  JobRequest r = greedy(m.tok->encode("Once upon a time", true, false), -1);
  r.params.ignore_eos = true;
  auto job = s->submit(r);
  ASSERT_TRUE(job.is_ok());
  Collected c = collect(**job, /*cancel_after_events=*/2);
  ASSERT_TRUE(c.done);
  EXPECT_EQ(c.stats.done_reason, "cancelled");
  // The worker checks before every step, so it stopped long before the context end.
  EXPECT_LT(c.stats.n_generated, 100);
  // The only slot is free again.
  auto next = s->submit(greedy(m.tok->encode("Once upon a time", true, false), 4));
  ASSERT_TRUE(next.is_ok());
  Collected c2 = collect(**next);
  EXPECT_EQ(c2.stats.done_reason, "length");
  EXPECT_EQ(c2.stats.n_generated, 4);
  EXPECT_TRUE(s->idle());
}

// Blocks the worker inside a step until released, to make queueing deterministic.
class Gate : public LogitsConstraint {
 public:
  void apply(std::span<float>) override {
    if (!seen.exchange(true)) entered.count_down();
    release.wait();
  }
  std::atomic<bool> seen{false};
  void accept(int32_t) override {}
  std::latch entered{1};
  std::latch release{1};
};

TEST(Scheduler, BoundedQueueRefusesAndCancelledQueuedJobsEnd) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 1, 256, /*max_queue=*/1);
  auto prompt = m.tok->encode("Once upon a time", true, false);
  auto gate = std::make_shared<Gate>();
  JobRequest first = greedy(prompt, 2);
  first.constraint = gate;
  auto a = s->submit(first);
  ASSERT_TRUE(a.is_ok());
  gate->entered.wait();  // the worker is inside job a's first sample
  auto b = s->submit(greedy(prompt, 2));
  ASSERT_TRUE(b.is_ok());
  auto c = s->submit(greedy(prompt, 2));
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(s->stats().queued, 1u);
  EXPECT_EQ(s->stats().active, 1u);
  (*b)->cancel();
  gate->release.count_down();
  EXPECT_EQ(collect(**a).stats.done_reason, "length");
  Collected cb = collect(**b);
  EXPECT_EQ(cb.stats.done_reason, "cancelled");
  EXPECT_EQ(cb.stats.n_generated, 0);
}

TEST(Scheduler, ValidationStopsAndZeroTokens) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 1, 16);
  EXPECT_EQ(s->submit(greedy({}, 4)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s->submit(greedy({1, 99999}, 4)).status().code(), ErrorCode::kInvalidArgument);
  auto too_long = s->submit(greedy(std::vector<int32_t>(17, 5), 4));
  EXPECT_EQ(too_long.status().code(), ErrorCode::kOutOfRange);
  JobRequest limited = greedy(std::vector<int32_t>(9, 5), 4);
  limited.n_ctx = 8;  // a per-request limit below the slot's context
  EXPECT_EQ(s->submit(limited).status().code(), ErrorCode::kOutOfRange);
  JobRequest bad = greedy({1, 2}, 4);
  bad.params.sampler.top_p = 2;
  EXPECT_EQ(s->submit(bad).status().code(), ErrorCode::kInvalidArgument);

  auto zero = s->submit(greedy(m.tok->encode("Once", true, false), 0));
  ASSERT_TRUE(zero.is_ok());
  Collected z = collect(**zero);
  EXPECT_EQ(z.stats.done_reason, "length");
  EXPECT_EQ(z.stats.n_generated, 0);
  EXPECT_TRUE(z.text.empty());

  // Generation stops with "length" at the end of the context.
  JobRequest full = greedy(m.tok->encode("Once", true, false), -1);
  full.params.ignore_eos = true;
  auto f = s->submit(full);
  ASSERT_TRUE(f.is_ok());
  Collected cf = collect(**f);
  EXPECT_EQ(cf.stats.done_reason, "length");
  EXPECT_EQ(cf.stats.n_prompt + cf.stats.n_generated, 17);  // 16 positions + the last sampled token

  auto s2 = make(m, 1, 256);
  JobRequest stop = greedy(m.tok->encode("Once upon a time", true, false), 32);
  stop.params.stop = {" park"};
  auto st = s2->submit(stop);
  ASSERT_TRUE(st.is_ok());
  Collected cs = collect(**st);
  EXPECT_EQ(cs.stats.done_reason, "stop");
  EXPECT_EQ(cs.stats.stop_index, 0);
  EXPECT_FALSE(cs.text.empty());
  EXPECT_EQ(cs.text.find("park"), std::string::npos);
}

TEST(Scheduler, LogprobsOfGreedyTokensAreTheTopAlternative) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 1);
  JobRequest r = greedy(m.tok->encode("Once upon a time", true, false), 6);
  r.top_logprobs = 3;
  auto job = s->submit(r);
  ASSERT_TRUE(job.is_ok());
  Collected c = collect(**job);
  ASSERT_EQ(c.logprobs.size(), 6u);
  for (size_t i = 0; i < c.logprobs.size(); ++i) {
    const auto& lp = c.logprobs[i];
    EXPECT_EQ(lp.id, c.stats.tokens[i]);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].first, lp.id);
    EXPECT_FLOAT_EQ(lp.top[0].second, lp.logprob);
    EXPECT_LE(lp.logprob, 0.0f);
    EXPECT_GE(lp.top[0].second, lp.top[1].second);
  }
}

TEST(Logprobs, LogSoftmaxAndTies) {
  std::vector<float> logits = {1.0f, 3.0f, 3.0f, NAN, -1.0f};
  StepLogprobs lp = compute_logprobs(logits, 4, 2);
  double z = std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(-1.0));
  EXPECT_NEAR(lp.chosen, -1.0 - z, 1e-5);
  ASSERT_EQ(lp.top.size(), 2u);
  EXPECT_EQ(lp.top[0].first, 1);  // lowest id first on ties
  EXPECT_EQ(lp.top[1].first, 2);
  EXPECT_NEAR(lp.top[0].second, 3.0 - z, 1e-5);
  EXPECT_TRUE(compute_logprobs({}, 0, 3).top.empty());
}

TEST(Scheduler, UnloadingEndsRunningJobsWithAnError) {
  SOV_REQUIRE_TESTDATA(dir);
  Model m = load(dir);
  auto s = make(m, 1, 256);
  auto gate = std::make_shared<Gate>();
  JobRequest r = greedy(m.tok->encode("Once", true, false), 8);
  r.constraint = gate;
  auto job = s->submit(r);
  ASSERT_TRUE(job.is_ok());
  gate->entered.wait();
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate->release.count_down();
  });
  (*job)->cancel();
  s.reset();
  release.join();
  Collected c = collect(**job);
  EXPECT_TRUE(c.done);
}

}  // namespace
}  // namespace sov::scheduler
