#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sov::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every stage off: plain softmax sampling at temperature 1.
SamplerParams plain(uint64_t seed = 1234) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.typical_p = 1.0f;
  p.repeat_penalty = 1.0f;
  p.seed = seed;
  return p;
}

SamplerParams greedy() {
  SamplerParams p = plain();
  p.temperature = 0.0f;
  return p;
}

std::vector<int32_t> draw(Sampler& s, std::span<const float> logits, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits));
  return out;
}

TEST(SamplerParams, OllamaDefaults) {
  SamplerParams p;
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_FLOAT_EQ(p.min_p, 0.0f);
  EXPECT_FLOAT_EQ(p.typical_p, 1.0f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.1f);
  EXPECT_EQ(p.repeat_last_n, 64);
  EXPECT_EQ(p.seed, static_cast<uint64_t>(int64_t{-1}));
  EXPECT_TRUE(p.validate().is_ok());
}

TEST(SamplerParams, ValidateRejectsNonsense) {
  auto bad = [](auto edit) {
    SamplerParams p;
    edit(p);
    return !p.validate().is_ok();
  };
  EXPECT_TRUE(bad([](SamplerParams& p) { p.temperature = kNaN; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.top_p = 1.5f; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.min_p = -0.1f; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.typical_p = kNaN; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.repeat_penalty = -1.0f; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.frequency_penalty = kInf; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.repeat_last_n = -2; }));
  EXPECT_TRUE(bad([](SamplerParams& p) { p.logit_bias[3] = kNaN; }));
  EXPECT_FALSE(bad([](SamplerParams& p) { p.logit_bias[3] = -kInf; }));
  EXPECT_FALSE(bad([](SamplerParams& p) { p.temperature = -1.0f; }));
}

TEST(Sampler, GreedyPicksArgmaxFirstOnTies) {
  Sampler s(greedy(), 5);
  const std::vector<float> logits = {1.0f, 5.0f, 3.0f, 5.0f, -2.0f};
  EXPECT_EQ(s.sample(logits), 1);
  SamplerParams negative = greedy();
  negative.temperature = -1.0f;
  Sampler t(negative, 5);
  EXPECT_EQ(t.sample(logits), 1);
  const std::vector<float> flat(5, 0.0f);
  EXPECT_EQ(s.sample(flat), 0);
}

TEST(Sampler, TinyTemperatureIsGreedy) {
  const std::vector<float> logits = {1.0f, 1.1f, 0.5f, -3.0f, 1.05f};
  for (float t : {1e-3f, 1e-20f}) {
    SamplerParams p = plain();
    p.temperature = t;
    Sampler s(p, 5);
    for (int32_t token : draw(s, logits, 500)) ASSERT_EQ(token, 1) << "t=" << t;
  }
}

TEST(Sampler, TopK1EqualsGreedy) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  SamplerParams p = plain();
  p.top_k = 1;
  Sampler s(p, 100);
  Sampler g(greedy(), 100);
  for (int round = 0; round < 200; ++round) {
    std::vector<float> logits(100);
    for (float& x : logits) x = normal(gen);
    ASSERT_EQ(s.sample(logits), g.sample(logits));
  }
}

TEST(Sampler, EmpiricalDistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f};
  std::vector<double> expected(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) sum += expected[i] = std::exp(double{logits[i]});
  for (double& e : expected) e /= sum;

  constexpr int kDraws = 20000;
  Sampler s(plain(42), static_cast<int32_t>(logits.size()));
  std::vector<int> counts(logits.size(), 0);
  for (int32_t token : draw(s, logits, kDraws)) ++counts.at(token);

  double chi2 = 0.0, max_diff = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double e = expected[i] * kDraws;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
    max_diff = std::max(max_diff, std::abs(counts[i] / double{kDraws} - expected[i]));
  }
  // Fixed seed, so deterministic; 20.52 is the 99.9% point of chi-square with 5 d.o.f.
  EXPECT_LT(chi2, 20.52);
  EXPECT_LT(max_diff, 0.012);
}

TEST(Sampler, ChainRenormalisesAfterTopP) {
  // p = .10 .50 .15 .25; top_p .7 keeps {1, 3}, which then share the mass 2:1.
  const std::vector<float> logits = {std::log(0.10f), std::log(0.50f), std::log(0.15f), std::log(0.25f)};
  SamplerParams p = plain(5);
  p.top_p = 0.7f;
  Sampler s(p, 4);
  int ones = 0;
  for (int32_t token : draw(s, logits, 3000)) {
    ASSERT_TRUE(token == 1 || token == 3) << token;
    ones += token == 1;
  }
  EXPECT_NEAR(ones / 3000.0, 2.0 / 3.0, 0.03);
}

TEST(Sampler, SeedReproducibility) {
  const std::vector<float> logits(16, 0.0f);
  Sampler a(plain(42), 16), b(plain(42), 16), c(plain(43), 16);
  const std::vector<int32_t> seq = draw(a, logits, 100);
  EXPECT_EQ(seq, draw(b, logits, 100));
  EXPECT_NE(seq, draw(c, logits, 100));
  a.reset();
  EXPECT_EQ(seq, draw(a, logits, 100));

  Sampler r1(plain(SamplerParams::kRandomSeed), 16), r2(plain(SamplerParams::kRandomSeed), 16);
  EXPECT_NE(r1.seed(), r2.seed());
  EXPECT_NE(draw(r1, logits, 100), draw(r2, logits, 100));
  Sampler replay(plain(r1.seed()), 16);  // the reported seed replays a random run
  r1.reset();
  EXPECT_EQ(draw(r1, logits, 100), draw(replay, logits, 100));
}

TEST(Sampler, RepeatPenaltyDividesPositiveMultipliesNegative) {
  SamplerParams p = plain();
  p.repeat_penalty = 2.0f;
  Sampler s(p, 5);
  for (int32_t t : {0, 1, 0}) s.accept(t);
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.0f, 3.0f};
  s.apply_penalties(logits);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.0f, 3.0f}));  // once per token
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  SamplerParams p = plain();
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p, 5);
  for (int32_t t : {0, 1, 0, 2, 0}) s.accept(t);
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.0f, 3.0f};
  s.apply_penalties(logits);
  // count 3: 2 - .75 - .5; count 1: -2 - .25 - .5 and 1 - .25 - .5; unseen: unchanged.
  EXPECT_EQ(logits, (std::vector<float>{0.75f, -2.75f, 0.25f, 0.0f, 3.0f}));
  std::vector<float> again = {2.0f, -2.0f, 1.0f, 0.0f, 3.0f};
  s.apply_penalties(again);  // counting scratch is reset between calls
  EXPECT_EQ(again, logits);
}

TEST(Sampler, AllPenaltiesCombine) {
  SamplerParams p = plain();
  p.repeat_penalty = 2.0f;
  p.presence_penalty = 1.0f;
  p.frequency_penalty = 0.5f;
  Sampler s(p, 3);
  for (int32_t t : {0, 0, 1}) s.accept(t);
  std::vector<float> logits = {4.0f, -1.0f, 1.0f};
  s.apply_penalties(logits);
  // id 0: 4/2 - 2*.5 - 1 = 0; id 1: -1*2 - .5 - 1 = -3.5.
  EXPECT_EQ(logits, (std::vector<float>{0.0f, -3.5f, 1.0f}));
}

TEST(Sampler, PenaltyWindow) {
  const std::vector<float> base = {1.0f, 1.0f, 1.0f, 1.0f};
  auto penalised = [&](int32_t last_n) {
    SamplerParams p = plain();
    p.presence_penalty = 1.0f;
    p.repeat_last_n = last_n;
    Sampler s(p, 4);
    for (int32_t t : {0, 1, 2, 2}) s.accept(t);
    std::vector<float> logits = base;
    s.apply_penalties(logits);
    return logits;
  };
  EXPECT_EQ(penalised(2), (std::vector<float>{1.0f, 1.0f, 0.0f, 1.0f}));
  EXPECT_EQ(penalised(3), (std::vector<float>{1.0f, 0.0f, 0.0f, 1.0f}));
  EXPECT_EQ(penalised(-1), (std::vector<float>{0.0f, 0.0f, 0.0f, 1.0f}));
  EXPECT_EQ(penalised(0), base);
}

TEST(Sampler, LongHistoryKeepsOnlyTheWindow) {
  SamplerParams p = plain();
  p.frequency_penalty = 1.0f;
  p.repeat_last_n = 3;
  Sampler s(p, 4);
  for (int i = 0; i < 1000; ++i) s.accept(i % 4);  // ends with ... 1 2 3 (i = 997..999)
  s.accept(-1);                                    // ignored
  s.accept(4);                                     // ignored
  std::vector<float> logits(4, 0.0f);
  s.apply_penalties(logits);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, -1.0f, -1.0f, -1.0f}));
  s.reset();
  std::vector<float> clean(4, 0.0f);
  s.apply_penalties(clean);
  EXPECT_EQ(clean, std::vector<float>(4, 0.0f));
}

TEST(Sampler, PenaltiesSteerGreedy) {
  SamplerParams p = greedy();
  p.repeat_penalty = 2.0f;
  Sampler s(p, 3);
  const std::vector<float> logits = {3.0f, 2.0f, 0.0f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);  // 3/2 < 2
}

TEST(Sampler, LogitBias) {
  SamplerParams p = greedy();
  p.logit_bias = {{1, -kInf}, {2, 0.5f}, {99, 10.0f}, {-3, 10.0f}};
  Sampler s(p, 4);
  std::vector<float> logits = {1.0f, 5.0f, 0.75f, 0.0f};
  EXPECT_EQ(s.sample(logits), 2);  // 1 banned, 2 lifted past 0; out-of-range ids ignored
  s.apply_logit_bias(logits);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -kInf, 1.25f, 0.0f}));

  SamplerParams q = plain(9);
  q.logit_bias = {{0, -kInf}, {2, -kInf}};
  Sampler t(q, 3);
  for (int32_t token : draw(t, std::vector<float>{5.0f, 0.0f, 5.0f}, 200)) ASSERT_EQ(token, 1);
}

TEST(Sampler, EverythingBannedFallsBackToRawBest) {
  SamplerParams p = plain();
  p.logit_bias = {{0, -kInf}, {1, -kInf}, {2, -kInf}};
  Sampler s(p, 3);
  EXPECT_EQ(s.sample(std::vector<float>{0.0f, 2.0f, 1.0f}), 1);
  p.temperature = 0.0f;
  Sampler g(p, 3);
  EXPECT_EQ(g.sample(std::vector<float>{0.0f, 2.0f, 1.0f}), 1);
}

TEST(Sampler, NaNAndInfinity) {
  Sampler s(plain(3), 4);
  for (int32_t token : draw(s, std::vector<float>{kNaN, 1.0f, kNaN, 0.0f}, 300)) {
    ASSERT_TRUE(token == 1 || token == 3) << token;
  }
  for (int32_t token : draw(s, std::vector<float>{0.0f, kInf, 1.0f, kInf}, 300)) {
    ASSERT_TRUE(token == 1 || token == 3) << token;
  }
  EXPECT_EQ(s.sample(std::vector<float>(4, kNaN)), 0);
  EXPECT_EQ(s.sample(std::vector<float>(4, -kInf)), 0);
  Sampler g(greedy(), 3);
  EXPECT_EQ(g.sample(std::vector<float>{kNaN, -1.0f, kNaN}), 1);
  // Every filter on, with NaN mixed in: still a valid, non-NaN token.
  SamplerParams all;
  all.seed = 8;
  all.min_p = 0.05f;
  all.typical_p = 0.9f;
  Sampler a(all, 4);
  for (int32_t token : draw(a, std::vector<float>{kNaN, 2.0f, kNaN, 1.0f}, 100)) {
    ASSERT_TRUE(token == 1 || token == 3) << token;
  }
}

TEST(Sampler, OddSizes) {
  Sampler s(greedy(), 4);
  EXPECT_EQ(s.sample(std::span<const float>()), -1);
  EXPECT_EQ(s.sample(std::vector<float>{0.0f, 3.0f}), 1);                    // shorter: its entries
  EXPECT_EQ(s.sample(std::vector<float>{0.0f, 1.0f, 0.0f, 0.0f, 9.0f}), 1);  // extra ignored
  Sampler empty(plain(), 0);
  EXPECT_EQ(empty.sample(std::vector<float>{1.0f}), -1);
  Sampler negative(plain(), -5);
  EXPECT_EQ(negative.sample(std::vector<float>{1.0f}), -1);
}

}  // namespace
}  // namespace sov::sampling
