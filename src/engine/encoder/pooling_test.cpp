// Pooling, L2 normalisation and LayerNorm on small hand-computed inputs.
#include "engine/encoder/pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/encoder/encoder.h"

namespace sov::engine {
namespace {

TEST(Pooling, MeanClsLast) {
  // 3 tokens of 2 values, rows 3 floats apart (the third value is padding).
  const std::vector<float> states = {1, 2, 99, 3, 4, 99, 8, -3, 99};
  float out[2];
  pool_states(states.data(), 3, 2, 3, Pooling::kMean, out);
  EXPECT_FLOAT_EQ(out[0], 4.0f);
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  pool_states(states.data(), 3, 2, 3, Pooling::kCls, out);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  pool_states(states.data(), 3, 2, 3, Pooling::kLast, out);
  EXPECT_FLOAT_EQ(out[0], 8.0f);
  EXPECT_FLOAT_EQ(out[1], -3.0f);
}

TEST(Pooling, NamesRoundTrip) {
  for (Pooling p : {Pooling::kNone, Pooling::kMean, Pooling::kCls, Pooling::kLast}) {
    auto parsed = parse_pooling(pooling_name(p));
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_FALSE(parse_pooling("max").is_ok());
  EXPECT_FALSE(parse_pooling("").is_ok());
}

TEST(Pooling, L2Normalize) {
  std::vector<float> v = {3, 4};
  l2_normalize(v.data(), 2);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0, 0};
  l2_normalize(zero.data(), 3);
  for (float z : zero) EXPECT_EQ(z, 0.0f);
}

TEST(LayerNorm, MatchesDefinition) {
  const std::vector<float> x = {1, 2, 3, 6};
  const std::vector<float> w = {1, 2, 0.5f, 1};
  const std::vector<float> b = {0, 1, 0, -1};
  std::vector<float> out(4);
  layer_norm(x.data(), w.data(), b.data(), 4, 1e-5f, out.data());
  const double mean = 3.0, var = (4 + 1 + 0 + 9) / 4.0;
  for (int i = 0; i < 4; ++i) {
    const double want = (x[i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i];
    EXPECT_NEAR(out[i], want, 1e-6) << i;
  }
  // In place, without bias.
  std::vector<float> y = x;
  layer_norm(y.data(), w.data(), nullptr, 4, 1e-5f, y.data());
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], out[i] - b[i], 1e-6) << i;
}

}  // namespace
}  // namespace sov::engine
