#include "quant/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "quant/fp16.h"
#include "quant/rmse_limits_test_util.h"

namespace sov::quant {
namespace {

using gguf::TensorType;

TEST(QuantBlocks, SizesMatchGgufTraits) {
  EXPECT_EQ(sizeof(BlockQ4_0), gguf::traits(TensorType::kQ4_0).type_size);
  EXPECT_EQ(sizeof(BlockQ4_1), gguf::traits(TensorType::kQ4_1).type_size);
  EXPECT_EQ(sizeof(BlockQ5_0), gguf::traits(TensorType::kQ5_0).type_size);
  EXPECT_EQ(sizeof(BlockQ5_1), gguf::traits(TensorType::kQ5_1).type_size);
  EXPECT_EQ(sizeof(BlockQ8_0), gguf::traits(TensorType::kQ8_0).type_size);
  EXPECT_EQ(sizeof(BlockQ8_1), gguf::traits(TensorType::kQ8_1).type_size);
  EXPECT_EQ(sizeof(BlockQ2_K), gguf::traits(TensorType::kQ2_K).type_size);
  EXPECT_EQ(sizeof(BlockQ3_K), gguf::traits(TensorType::kQ3_K).type_size);
  EXPECT_EQ(sizeof(BlockQ4_K), gguf::traits(TensorType::kQ4_K).type_size);
  EXPECT_EQ(sizeof(BlockQ5_K), gguf::traits(TensorType::kQ5_K).type_size);
  EXPECT_EQ(sizeof(BlockQ6_K), gguf::traits(TensorType::kQ6_K).type_size);
  EXPECT_EQ(sizeof(BlockQ8_K), gguf::traits(TensorType::kQ8_K).type_size);
}

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// sqrt(mean squared error) / sqrt(mean square of the signal).
double relative_rmse(const std::vector<float>& ref, const std::vector<float>& got) {
  double err = 0, sig = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err += (double(got[i]) - ref[i]) * (double(got[i]) - ref[i]);
    sig += double(ref[i]) * ref[i];
  }
  return std::sqrt(err / sig);
}

std::vector<float> round_trip(TensorType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*gguf::row_bytes(t, static_cast<int64_t>(x.size())));
  EXPECT_TRUE(quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size())).is_ok());
  std::vector<float> y(x.size());
  EXPECT_TRUE(dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(x.size())).is_ok());
  return y;
}

class QuantRoundTrip : public ::testing::TestWithParam<TensorType> {};

TEST_P(QuantRoundTrip, ErrorWithinFormatPrecision) {
  const TensorType t = GetParam();
  const double limit = test::rmse_limit(t);
  const auto x = gaussian(256 * 64, 42, 0.05f);
  const double rmse = relative_rmse(x, round_trip(t, x));
  std::printf("%-5s relative rmse %.5f (limit %.5f)\n", std::string(gguf::type_name(t)).c_str(), rmse, limit);
  EXPECT_LT(rmse, limit);
  EXPECT_GT(rmse, limit / 2);  // a format much better than expected means a broken test
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantRoundTrip,
                         ::testing::Values(TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0,
                                           TensorType::kQ8_1, TensorType::kQ8_K, TensorType::kQ6_K,
                                           TensorType::kQ5_K, TensorType::kQ5_1, TensorType::kQ5_0,
                                           TensorType::kQ4_K, TensorType::kQ4_1, TensorType::kQ4_0,
                                           TensorType::kQ3_K, TensorType::kQ2_K),
                         [](const auto& info) { return std::string(gguf::type_name(info.param)); });

TEST(QuantRoundTrip, F32IsExact) {
  const auto x = gaussian(64, 1);
  EXPECT_EQ(round_trip(TensorType::kF32, x), x);
}

TEST(QuantRoundTrip, ZerosStayZero) {
  const std::vector<float> x(512, 0.0f);
  for (auto t : {TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1,
                 TensorType::kQ8_0, TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                 TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kQ8_K}) {
    const auto y = round_trip(t, x);
    for (float v : y) ASSERT_EQ(v, 0.0f) << gguf::type_name(t);
  }
}

// Values already on a Q4_0 / Q8_0 grid come back exactly, which pins down the layout.
TEST(QuantLayout, Q4_0GridIsExactAndPackedAsGgml) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = 0.5f * static_cast<float>((j * 7) % 16 - 8);
  x[3] = -4.0f;  // the largest magnitude is negative, so d = -4 / -8 = 0.5
  BlockQ4_0 b;
  quantize_row_q4_0(x.data(), &b, 32);
  EXPECT_EQ(fp16_to_fp32(b.d), 0.5f);
  // Element j in the low nibble of qs[j], element j + 16 in the high nibble.
  EXPECT_EQ(b.qs[1] & 0xF, static_cast<int>(x[1] / 0.5f) + 8);
  EXPECT_EQ(b.qs[1] >> 4, static_cast<int>(x[17] / 0.5f) + 8);
  std::vector<float> y(32);
  dequantize_row_q4_0(&b, y.data(), 32);
  EXPECT_EQ(y, x);
}

TEST(QuantLayout, Q8_0GridIsExact) {
  std::vector<float> x(64);
  for (int j = 0; j < 64; ++j) x[j] = 0.25f * static_cast<float>((j * 37) % 255 - 127);
  for (int b = 0; b < 2; ++b) x[b * 32 + 5] = 127 * 0.25f;
  const auto y = round_trip(TensorType::kQ8_0, x);
  EXPECT_EQ(y, x);
}

TEST(QuantLayout, Q8_KSumsAndScale) {
  const auto x = gaussian(512, 3);
  std::vector<BlockQ8_K> b(2);
  quantize_row_q8_k(x.data(), b.data(), 512);
  for (const auto& blk : b) {
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
      EXPECT_EQ(blk.bsums[j], sum);
    }
  }
}

TEST(QuantDispatch, RefusesBadLengthsAndTypes) {
  std::vector<float> x(48, 1.0f);
  std::vector<uint8_t> q(1024);
  EXPECT_EQ(quantize_row(TensorType::kQ4_0, x.data(), q.data(), 48).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(dequantize_row(TensorType::kQ4_K, q.data(), x.data(), 32).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(quantize_row(TensorType::kIQ2_XXS, x.data(), q.data(), 256).code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(can_dequantize(TensorType::kIQ4_NL));
  EXPECT_TRUE(can_dequantize(TensorType::kQ6_K));
}

}  // namespace
}  // namespace sov::quant
