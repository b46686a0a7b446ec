#include "engine/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace sov::engine {
namespace {

TEST(Ops, RmsNorm) {
  std::vector<float> x = {1, 2, 3, 4}, w = {1, 1, 2, 0.5f}, out(4);
  rms_norm(x.data(), w.data(), 4, 0.0f, out.data());
  const float rms = std::sqrt((1 + 4 + 9 + 16) / 4.0f);
  EXPECT_NEAR(out[0], 1 / rms, 1e-6);
  EXPECT_NEAR(out[2], 3 / rms * 2, 1e-6);
  EXPECT_NEAR(out[3], 4 / rms * 0.5f, 1e-6);
}

TEST(Ops, SoftmaxHandlesMaskedEntries) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {1, -inf, 1};
  softmax(x.data(), 3);
  EXPECT_FLOAT_EQ(x[0], 0.5f);
  EXPECT_FLOAT_EQ(x[1], 0.0f);
  std::vector<float> all_masked = {-inf, -inf};
  softmax(all_masked.data(), 2);
  EXPECT_EQ(all_masked[0], 0.0f);
}

TEST(Ops, SoftcapBoundsValues) {
  std::vector<float> x = {0, 1000, -1000, 1};
  softcap(x.data(), 4, 5.0f);
  EXPECT_FLOAT_EQ(x[0], 0);
  EXPECT_NEAR(x[1], 5, 1e-5);
  EXPECT_NEAR(x[2], -5, 1e-5);
  EXPECT_NEAR(x[3], 5 * std::tanh(0.2f), 1e-6);
}

TEST(Ops, Activations) {
  EXPECT_NEAR(silu(1.0f), 1.0f / (1.0f + std::exp(-1.0f)), 1e-7);
  EXPECT_NEAR(gelu_tanh(1.0f), 0.841192f, 1e-5);
  EXPECT_EQ(gelu_tanh(0.0f), 0.0f);
}

HParams rope_hparams(RopeType type) {
  HParams hp;
  hp.head_dim = 8;
  hp.n_rot = 8;
  hp.rope_type = type;
  hp.rope_theta = 10000.0f;
  return hp;
}

TEST(Rope, PositionZeroIsIdentityAndNormIsKept) {
  for (RopeType type : {RopeType::kNormal, RopeType::kNeox}) {
    HParams hp = rope_hparams(type);
    Rope rope(hp, nullptr);
    std::vector<float> tab(8), x = {1, 2, 3, 4, 5, 6, 7, 8}, y = x;
    rope.table(0, tab.data());
    rope.apply(y.data(), tab.data());
    for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(y[i], x[i]);
    rope.table(17, tab.data());
    rope.apply(y.data(), tab.data());
    double n0 = 0, n1 = 0;
    for (int i = 0; i < 8; ++i) {
      n0 += x[i] * x[i];
      n1 += y[i] * y[i];
    }
    EXPECT_NEAR(n0, n1, 1e-3);
  }
}

TEST(Rope, PairsFollowTheRopeType) {
  // At position 1 the first pair turns by exactly 1 radian.
  std::vector<float> tab(8);
  HParams normal = rope_hparams(RopeType::kNormal);
  Rope r1(normal, nullptr);
  r1.table(1, tab.data());
  std::vector<float> x = {1, 0, 0, 0, 0, 0, 0, 0};
  r1.apply(x.data(), tab.data());
  EXPECT_NEAR(x[0], std::cos(1.0f), 1e-6);
  EXPECT_NEAR(x[1], std::sin(1.0f), 1e-6);  // normal: partner is the next element

  HParams neox = rope_hparams(RopeType::kNeox);
  Rope r2(neox, nullptr);
  std::vector<float> y = {1, 0, 0, 0, 0, 0, 0, 0};
  r2.apply(y.data(), tab.data());
  EXPECT_NEAR(y[0], std::cos(1.0f), 1e-6);
  EXPECT_NEAR(y[4], std::sin(1.0f), 1e-6);  // NEOX: partner is n_rot/2 away
  EXPECT_EQ(y[1], 0.0f);
}

TEST(Rope, FrequencyFactorsAndLinearScalingSlowRotation) {
  std::vector<float> factors = {2, 2, 2, 2}, tab(8), plain(8);
  HParams hp = rope_hparams(RopeType::kNormal);
  Rope with_factors(hp, factors.data());
  with_factors.table(4, tab.data());
  Rope base(hp, nullptr);
  base.table(2, plain.data());
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(tab[i], plain[i], 1e-5);  // pos 4 / factor 2 == pos 2

  hp.rope_scaling = RopeScaling::kLinear;
  hp.rope_scale = 2.0f;
  Rope linear(hp, nullptr);
  linear.table(4, tab.data());
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(tab[i], plain[i], 1e-5);
}

}  // namespace
}  // namespace sov::engine
