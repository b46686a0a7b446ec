// Every dot product (scalar and each SIMD variant this CPU runs) against a double-precision
// sum over the dequantized operands, and the SIMD activation converters against the scalar
// ones byte for byte.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "kernels/type_kernels.h"
#include "quant/fp16.h"
#include "quant/quant.h"

namespace sov::kernels {
namespace {

using gguf::TensorType;

const TensorType kTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
                             TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
                             TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
                             TensorType::kQ6_K};

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Q4_1 / Q5_1 dot products use the activation block's stored s = fp16(d_a * sum(q_a))
// for the min term, as ggml does, rather than the exact sum. Returns what that adds to
// the exact sum, and its magnitude.
std::pair<double, double> q8_1_min_term_correction(TensorType t, const uint8_t* w, const uint8_t* a,
                                                   int64_t n) {
  if (t != TensorType::kQ4_1 && t != TensorType::kQ5_1) return {0.0, 0.0};
  const size_t wsize = gguf::traits(t).type_size;
  double corr = 0, mag = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    uint16_t mh, dah, sah;
    std::memcpy(&mh, w + b * wsize + 2, 2);  // d, m, ...
    std::memcpy(&dah, a + b * 36, 2);        // d, s, qs[32]
    std::memcpy(&sah, a + b * 36 + 2, 2);
    const auto* qs = reinterpret_cast<const int8_t*>(a + b * 36 + 4);
    double exact_sum = 0;
    for (int j = 0; j < 32; ++j) exact_sum += double(quant::fp16_to_fp32(dah) * qs[j]);
    const double m = quant::fp16_to_fp32(mh);
    corr += m * (quant::fp16_to_fp32(sah) - exact_sum);
    mag += std::fabs(m * quant::fp16_to_fp32(sah));
  }
  return {corr, mag};
}

std::vector<Isa> isas() {
  std::vector<Isa> v = {Isa::kScalar};
  if (best_isa() >= Isa::kAvx2) v.push_back(Isa::kAvx2);
  if (best_isa() >= Isa::kAvx512) v.push_back(Isa::kAvx512);
  return v;
}

struct Operands {
  std::vector<uint8_t> w, a;
  double exact = 0;      // sum of dequantized w * dequantized a, in double
  double magnitude = 0;  // sum of |w * a|: the scale float rounding errors are relative to
};

Operands make_operands(TensorType t, int64_t n, uint32_t seed) {
  const TypeKernels* k = type_kernels(t, Isa::kScalar);
  Operands op;
  const auto wf = gaussian(n, seed, 0.02f);
  auto xf = gaussian(n, seed + 1, 1.0f);
  xf[n / 3] = 9.0f;  // an outlier, as real activations have
  op.w.resize(*gguf::row_bytes(t, n));
  EXPECT_TRUE(quant::quantize_row(t, wf.data(), op.w.data(), n).is_ok());
  std::vector<float> wd(n), ad(n);
  EXPECT_TRUE(quant::dequantize_row(t, op.w.data(), wd.data(), n).is_ok());
  if (k->from_float != nullptr) {
    op.a.resize(*gguf::row_bytes(k->vec_dot_type, n));
    k->from_float(xf.data(), op.a.data(), n);
    EXPECT_TRUE(quant::dequantize_row(k->vec_dot_type, op.a.data(), ad.data(), n).is_ok());
  } else {
    op.a.resize(n * sizeof(float));
    std::memcpy(op.a.data(), xf.data(), op.a.size());
    ad = xf;
  }
  for (int64_t i = 0; i < n; ++i) {
    op.exact += double(wd[i]) * ad[i];
    op.magnitude += std::fabs(double(wd[i]) * ad[i]);
  }
  const auto [corr, mag] = q8_1_min_term_correction(t, op.w.data(), op.a.data(), n);
  op.exact += corr;
  op.magnitude += mag;
  return op;
}

class DotTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(DotTest, EveryIsaMatchesExactSum) {
  const TensorType t = GetParam();
  for (int64_t n : {256, 512, 4096}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const Operands op = make_operands(t, n, seed);
      for (Isa isa : isas()) {
        const TypeKernels* k = type_kernels(t, isa);
        ASSERT_NE(k, nullptr);
        const float got = k->vec_dot(n, op.w.data(), op.a.data());
        // Float accumulation of n terms: a few ulps of the magnitude.
        EXPECT_NEAR(got, op.exact, 2e-6 * op.magnitude + 1e-30)
            << gguf::type_name(t) << " " << isa_name(isa) << " n=" << n << " seed=" << seed;
      }
    }
  }
}

TEST_P(DotTest, FourTokenKernelMatchesExactSums) {
  const TensorType t = GetParam();
  const int64_t n = 1024;
  // Four activation rows for the same weight row, packed back to back.
  Operands ops[4];
  for (int i = 0; i < 4; ++i) ops[i] = make_operands(t, n, 40 + i);
  // Weights differ with the seed: use the first operand's weights with all four rows.
  const size_t stride = ops[0].a.size();
  std::vector<uint8_t> acts(4 * stride);
  for (int i = 0; i < 4; ++i) std::memcpy(acts.data() + i * stride, ops[i].a.data(), stride);
  for (Isa isa : isas()) {
    const TypeKernels* k = type_kernels(t, isa);
    if (k->vec_dot_x4 == nullptr) continue;
    float out[4];
    k->vec_dot_x4(n, ops[0].w.data(), acts.data(), stride, out);
    for (int i = 0; i < 4; ++i) {
      // Reference: the single-token kernel of the scalar table on the same operands.
      const float want = type_kernels(t, Isa::kScalar)->vec_dot(n, ops[0].w.data(), ops[i].a.data());
      const Operands& o = ops[i];
      EXPECT_NEAR(out[i], want, 4e-6 * o.magnitude + 1e-30)
          << gguf::type_name(t) << " " << isa_name(isa) << " t=" << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DotTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(gguf::type_name(info.param)); });

TEST(DotFloatTypes, OddLengthsUseTheTail) {
  for (TensorType t : {TensorType::kF32, TensorType::kF16, TensorType::kBF16}) {
    for (int64_t n : {1, 7, 15, 33, 100}) {
      const Operands op = make_operands(t, n, 9);
      for (Isa isa : isas()) {
        const float got = type_kernels(t, isa)->vec_dot(n, op.w.data(), op.a.data());
        EXPECT_NEAR(got, op.exact, 2e-6 * op.magnitude + 1e-30)
            << gguf::type_name(t) << " " << isa_name(isa) << " n=" << n;
      }
    }
  }
}

TEST(ActivationConversion, SimdIsByteIdenticalToScalar) {
  auto x = gaussian(4096, 5, 1.0f);
  // Values that sit exactly on rounding ties after scaling by 127 / amax.
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) + 0.5f;
  x[31] = 127.0f;
  for (int i = 64; i < 96; ++i) x[i] = 0.0f;  // an all-zero block
  // Q8_K: both signs of the largest magnitude in one 256-block; the first (negative) one sets
  // the scale's sign.
  x[300] = -50.0f;
  x[310] = 50.0f;
  for (TensorType t : kTypes) {
    const TypeKernels* ref = type_kernels(t, Isa::kScalar);
    if (ref->from_float == nullptr) continue;
    const size_t bytes = *gguf::row_bytes(ref->vec_dot_type, 4096);
    std::vector<uint8_t> want(bytes), got(bytes);
    ref->from_float(x.data(), want.data(), 4096);
    for (Isa isa : isas()) {
      type_kernels(t, isa)->from_float(x.data(), got.data(), 4096);
      EXPECT_EQ(got, want) << gguf::type_name(t) << " " << isa_name(isa);
    }
  }
}

TEST(ActivationConversion, Q8_0RoundsTiesToEvenLikeGgmlX86) {
  // amax 127 gives id = 1 exactly, so x = 2.5 stays 2.5 and must round to 2 (not 3).
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -3.5f;
  std::vector<uint8_t> q(34);
  type_kernels(TensorType::kQ4_0, Isa::kScalar)->from_float(x.data(), q.data(), 32);
  const auto* qs = reinterpret_cast<const int8_t*>(q.data() + 2);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], 2);
  EXPECT_EQ(qs[2], -4);
}

TEST(Isa, TablesUseTheRequestedIsa) {
  for (TensorType t : kTypes) {
    EXPECT_EQ(type_kernels(t, Isa::kScalar)->vec_dot_isa, Isa::kScalar);
    if (best_isa() >= Isa::kAvx2) {
      EXPECT_EQ(type_kernels(t, Isa::kAvx2)->vec_dot_isa, Isa::kAvx2);
      EXPECT_NE(type_kernels(t, Isa::kAvx2)->vec_dot_x4, nullptr);
    }
  }
  if (best_isa() >= Isa::kAvx512) {
    for (TensorType t : kTypes) {
      EXPECT_EQ(type_kernels(t, Isa::kAvx512)->vec_dot_isa, Isa::kAvx512) << gguf::type_name(t);
    }
  }
}

TEST(Isa, SetIsaClampsAndRestores) {
  const Isa best = best_isa();
  EXPECT_EQ(set_isa(Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(active_isa(), Isa::kScalar);
  EXPECT_EQ(set_isa(Isa::kAvx512), best);
  EXPECT_EQ(active_isa(), best);
}

}  // namespace
}  // namespace sov::kernels
