#include "sampling/filters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sov::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Token id i has probability probs[i]; logits are log-probabilities, so softmax gives them back.
std::vector<Candidate> from_probs(const std::vector<float>& probs) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < probs.size(); ++i) c.push_back({static_cast<int32_t>(i), std::log(probs[i]), 0});
  return c;
}

std::vector<int32_t> ids(std::span<const Candidate> c) {
  std::vector<int32_t> out;
  for (const Candidate& x : c) out.push_back(x.id);
  return out;
}

std::vector<int32_t> sorted_ids(std::span<const Candidate> c) {
  std::vector<int32_t> out = ids(c);
  std::sort(out.begin(), out.end());
  return out;
}

// id: 0     1     2     3
// p:  0.10  0.50  0.15  0.25
const std::vector<float> kProbs = {0.10f, 0.50f, 0.15f, 0.25f};

using Filter = size_t (*)(std::span<Candidate>, float);

std::vector<int32_t> kept(Filter f, float p, bool sorted = true) {
  std::vector<Candidate> c = from_probs(kProbs);
  const size_t n = f(c, p);
  std::span<const Candidate> k(c.data(), n);
  return sorted ? sorted_ids(k) : ids(k);
}

TEST(Softmax, MatchesProbabilities) {
  std::vector<Candidate> c = from_probs(kProbs);
  softmax(c);
  for (size_t i = 0; i < kProbs.size(); ++i) EXPECT_NEAR(c[i].p, kProbs[i], 1e-6);
}

TEST(Softmax, InfinitiesAreHandled) {
  std::vector<Candidate> c = {{0, 1.0f, 0}, {1, kInf, 0}, {2, -kInf, 0}, {3, kInf, 0}};
  softmax(c);
  EXPECT_EQ(c[0].p, 0.0f);
  EXPECT_EQ(c[1].p, 0.5f);
  EXPECT_EQ(c[2].p, 0.0f);
  EXPECT_EQ(c[3].p, 0.5f);
  std::vector<Candidate> banned = {{0, -kInf, 0}, {1, -kInf, 0}};
  softmax(banned);
  EXPECT_EQ(banned[0].p, 0.5f);
  std::vector<Candidate> huge = {{0, 3e38f, 0}, {1, -3e38f, 0}};
  softmax(huge);
  EXPECT_EQ(huge[0].p, 1.0f);
  EXPECT_EQ(huge[1].p, 0.0f);
}

TEST(TopK, KeepsHighestSorted) {
  std::vector<Candidate> c = from_probs(kProbs);
  ASSERT_EQ(filter_top_k(c, 2), 2u);
  EXPECT_EQ(ids(std::span(c).first(2)), (std::vector<int32_t>{1, 3}));
  std::vector<Candidate> d = from_probs(kProbs);
  EXPECT_EQ(filter_top_k(d, 0), 4u);
  EXPECT_EQ(filter_top_k(d, 10), 4u);
  EXPECT_EQ(filter_top_k(d, 1), 1u);
  EXPECT_EQ(d[0].id, 1);
}

TEST(TopK, TiesBreakByLowerId) {
  std::vector<Candidate> c = {{5, 1.0f, 0}, {2, 1.0f, 0}, {7, 1.0f, 0}, {1, 0.0f, 0}};
  ASSERT_EQ(filter_top_k(c, 2), 2u);
  EXPECT_EQ(c[0].id, 2);
  EXPECT_EQ(c[1].id, 5);
}

TEST(TopP, KeepsSmallestNucleus) {
  // Sorted: 1 (.50), 3 (.25, cum .75), 2 (.15, cum .90), 0 (.10, cum 1.0).
  EXPECT_EQ(kept(filter_top_p, 0.3f), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(filter_top_p, 0.7f), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(kept(filter_top_p, 0.8f), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(kept(filter_top_p, 0.95f), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(kept(filter_top_p, 0.0f), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(filter_top_p, 1.0f), (std::vector<int32_t>{0, 1, 2, 3}));  // off: untouched
}

TEST(TopP, WideNucleusOfEqualTokens) {
  // 1000 equal tokens: the nucleus of 0.9 is ~900 of them, the lowest ids on ties.
  std::vector<Candidate> c;
  for (int32_t i = 0; i < 1000; ++i) c.push_back({i, 0.0f, 0});
  const size_t n = filter_top_p(c, 0.9f);
  EXPECT_NEAR(static_cast<double>(n), 900.0, 1.0);
  std::vector<int32_t> expected(n);
  for (size_t i = 0; i < n; ++i) expected[i] = static_cast<int32_t>(i);
  EXPECT_EQ(sorted_ids(std::span(c).first(n)), expected);
}

// Reference: sort everything by `key` ascending (ties by id), keep until the mass reaches p.
template <typename Key>
std::vector<int32_t> brute_force(std::vector<Candidate> c, float p, Key key) {
  softmax(c);
  std::sort(c.begin(), c.end(), [&](const Candidate& a, const Candidate& b) {
    return key(a) != key(b) ? key(a) < key(b) : a.id < b.id;
  });
  double cum = 0.0;
  size_t n = 0;
  while (n < c.size() && cum < p) cum += c[n++].p;
  return sorted_ids(std::span(c).first(n));
}

TEST(Filters, SelectionMatchesFullSortOnLargeVocab) {
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<Candidate> base;
  for (int32_t i = 0; i < 5000; ++i) base.push_back({i, normal(gen), 0});
  for (float p : {0.05f, 0.5f, 0.9f, 0.99f}) {
    std::vector<Candidate> c = base;
    const size_t n = filter_top_p(c, p);
    EXPECT_EQ(sorted_ids(std::span(c).first(n)),
              brute_force(base, p, [](const Candidate& x) { return -double{x.logit}; }))
        << "top_p " << p;

    std::vector<Candidate> t = base;
    softmax(t);
    double entropy = 0.0;
    for (const Candidate& x : t) entropy -= x.p * std::log(double{x.p});
    auto typicality = [&](const Candidate& x) { return std::abs(-std::log(double{x.p}) - entropy); };
    const size_t m = filter_typical(t, p);
    // Exact here (fixed data); scores computed another way could differ only on near-ties.
    EXPECT_EQ(sorted_ids(std::span(t).first(m)), brute_force(base, p, typicality)) << "typical " << p;
  }
}

TEST(MinP, KeepsRelativeToBest) {
  EXPECT_EQ(kept(filter_min_p, 0.25f, false), (std::vector<int32_t>{1, 2, 3}));  // >= .125, order kept
  EXPECT_EQ(kept(filter_min_p, 0.4f, false), (std::vector<int32_t>{1, 3}));      // >= .20
  EXPECT_EQ(kept(filter_min_p, 1.0f), (std::vector<int32_t>{1}));
  EXPECT_EQ(kept(filter_min_p, 0.0f), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Typical, KeepsMostTypicalFirst) {
  // H = 1.2080 nats; |surprisal - H|: id3 .178, id1 .515, id2 .689, id0 1.095.
  EXPECT_EQ(kept(filter_typical, 0.2f), (std::vector<int32_t>{3}));
  EXPECT_EQ(kept(filter_typical, 0.5f), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(kept(filter_typical, 0.8f), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(kept(filter_typical, 0.95f), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(kept(filter_typical, 1.0f, false), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(Filters, NeverEmptyAndNoOpOnEmpty) {
  std::vector<Candidate> none;
  EXPECT_EQ(filter_top_k(none, 3), 0u);
  EXPECT_EQ(filter_top_p(none, 0.5f), 0u);
  EXPECT_EQ(filter_min_p(none, 0.5f), 0u);
  EXPECT_EQ(filter_typical(none, 0.5f), 0u);
  std::vector<Candidate> one = {{7, -kInf, 0}};
  EXPECT_EQ(filter_top_p(one, 0.5f), 1u);
  EXPECT_EQ(filter_min_p(one, 0.5f), 1u);
  EXPECT_EQ(filter_typical(one, 0.5f), 1u);
}

TEST(Temperature, ScalesDifferences) {
  std::vector<Candidate> c = {{0, 1.0f, 0}, {1, 3.0f, 0}};
  apply_temperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c[1].logit - c[0].logit, 4.0f);
  std::vector<Candidate> tiny = {{0, -5.0f, 0}, {1, -4.0f, 0}};
  apply_temperature(tiny, 1e-30f);  // would be -inf everywhere without the shift
  softmax(tiny);
  EXPECT_EQ(tiny[1].p, 1.0f);
}

}  // namespace
}  // namespace sov::sampling
