#include "quant/fp16.h"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <limits>
#include <random>

#include "base/cpu.h"

namespace sov::quant {
namespace {

// Hardware conversion (F16C), round to nearest even: an independent oracle.
__attribute__((target("f16c"))) uint16_t f16c_convert(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float f16c_expand(uint16_t h) {
  return _cvtsh_ss(h);
}

bool is_nan_half(uint16_t h) {
  return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

TEST(Fp16, KnownValues) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // tie between 65504 and 2^16 goes to even: inf
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_TRUE(is_nan_half(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // tie with 0: even
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 ulp: tie, goes to even 2
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);         // smallest normal
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie: stays even
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
}

TEST(Fp16, EveryHalfRoundTripsAndMatchesHardware) {
  const bool hw = sov::cpu_has_f16c();
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (is_nan_half(static_cast<uint16_t>(h))) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_TRUE(is_nan_half(fp32_to_fp16(f)));
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), h) << std::hex << h;
    if (hw) {
      ASSERT_EQ(float_bits(f), float_bits(f16c_expand(static_cast<uint16_t>(h)))) << std::hex << h;
    }
  }
}

TEST(Fp16, FloatsRoundLikeHardware) {
  if (!sov::cpu_has_f16c()) GTEST_SKIP() << "no F16C on this CPU";
  // Every 251st float32 bit pattern (17 million values covering all exponents), plus
  // random ones, must convert exactly as the F16C instruction does (NaN payloads aside).
  int checked = 0;
  for (uint64_t u = 0; u <= 0xffffffffull; u += 251) {
    const float f = bits_float(static_cast<uint32_t>(u));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), f16c_convert(f)) << std::hex << u;
    ++checked;
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 1000000; ++i) {
    const float f = bits_float(static_cast<uint32_t>(rng()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_fp16(f), f16c_convert(f)) << f;
  }
  EXPECT_GT(checked, 16000000);
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(bits_float(0x3f808001)), 0x3f81);
  EXPECT_EQ(fp32_to_bf16(bits_float(0x00000001)), 0x0000);  // subnormals kept, not flushed:
  EXPECT_EQ(fp32_to_bf16(bits_float(0x00018000)), 0x0002);  // 1.5 ulp of bf16 subnormal -> 2
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
  const uint16_t nan = fp32_to_bf16(bits_float(0x7f800001));           // signalling nan stays nan
  EXPECT_TRUE(std::isnan(bf16_to_fp32(nan)));
  EXPECT_EQ(bf16_to_fp32(0xbf80), -1.0f);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(fp32_to_bf16(f), h);
  }
}

TEST(Bf16, NearestOfRandomFloats) {
  std::mt19937 rng(11);
  for (int i = 0; i < 1000000; ++i) {
    const float f = bits_float(static_cast<uint32_t>(rng()));
    if (!std::isfinite(f)) continue;
    const uint16_t h = fp32_to_bf16(f);
    const double got = bf16_to_fp32(h);
    if (std::isinf(got)) continue;  // overflow near FLT_MAX
    // Neighbours one unit above and below must not be closer.
    const double up = bf16_to_fp32(static_cast<uint16_t>(h + 1));
    const double down = bf16_to_fp32(static_cast<uint16_t>(h - 1));
    const double err = std::fabs(got - f);
    if (std::isfinite(up)) {
      ASSERT_LE(err, std::fabs(up - f)) << f;
    }
    if (std::isfinite(down) && (h & 0x7fff) != 0) {
      ASSERT_LE(err, std::fabs(down - f)) << f;
    }
  }
}

}  // namespace
}  // namespace sov::quant
