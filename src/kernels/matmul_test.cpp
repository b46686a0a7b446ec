#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

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

struct Problem {
  TensorType type;
  int64_t n_in, n_out, n_tokens;
  std::vector<uint8_t> w;
  std::vector<float> x;
  std::vector<double> exact;      // [n_tokens][n_out] over dequantized weights and activations
  std::vector<double> magnitude;  // sum |w a| per output
  std::vector<double> float_ref;  // over dequantized weights and the float activations
  WeightView view() const { return {type, w.data(), n_in, n_out, *gguf::row_bytes(type, n_in)}; }
};

Problem make_problem(TensorType t, int64_t n_in, int64_t n_out, int64_t n_tokens) {
  Problem p{t, n_in, n_out, n_tokens, {}, {}, {}, {}, {}};
  const size_t rb = *gguf::row_bytes(t, n_in);
  p.w.resize(rb * n_out);
  const auto wf = gaussian(n_in * n_out, 17, 0.02f);
  for (int64_t o = 0; o < n_out; ++o) {
    EXPECT_TRUE(quant::quantize_row(t, wf.data() + o * n_in, p.w.data() + o * rb, n_in).is_ok());
  }
  p.x = gaussian(n_in * n_tokens, 23, 1.0f);
  const TypeKernels* k = type_kernels(t, Isa::kScalar);
  std::vector<float> wd(n_in), ad(n_in);
  std::vector<uint8_t> act(k->from_float ? *gguf::row_bytes(k->vec_dot_type, n_in) : 0);
  p.exact.resize(n_tokens * n_out);
  p.magnitude.resize(n_tokens * n_out);
  p.float_ref.resize(n_tokens * n_out);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const float* xt = p.x.data() + tok * n_in;
    if (k->from_float) {
      k->from_float(xt, act.data(), n_in);
      EXPECT_TRUE(quant::dequantize_row(k->vec_dot_type, act.data(), ad.data(), n_in).is_ok());
    } else {
      ad.assign(xt, xt + n_in);
    }
    for (int64_t o = 0; o < n_out; ++o) {
      EXPECT_TRUE(quant::dequantize_row(t, p.w.data() + o * rb, wd.data(), n_in).is_ok());
      double e = 0, m = 0, f = 0;
      for (int64_t i = 0; i < n_in; ++i) {
        e += double(wd[i]) * ad[i];
        m += std::fabs(double(wd[i]) * ad[i]);
        f += double(wd[i]) * xt[i];
      }
      if (k->from_float) {
        const auto [corr, mag] = q8_1_min_term_correction(t, p.w.data() + o * rb, act.data(), n_in);
        e += corr;
        m += mag;
      }
      p.exact[tok * n_out + o] = e;
      p.magnitude[tok * n_out + o] = m;
      p.float_ref[tok * n_out + o] = f;
    }
  }
  return p;
}

class MatmulTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(MatmulTest, MatchesDoublePrecisionReferenceOnEveryIsaAndThreadCount) {
  const TensorType t = GetParam();
  ThreadPool pool(2);
  const Isa saved = active_isa();
  for (int64_t n_tokens : {1, 5, 19}) {
    const Problem p = make_problem(t, 512, 67, n_tokens);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (isa > best_isa()) continue;
      set_isa(isa);
      for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> y(n_tokens * p.n_out, -1.0f);
        Scratch scratch;
        matmul(p.view(), p.x.data(), n_tokens, y.data(), &scratch, tp);
        double worst_quant = 0;
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_NEAR(y[i], p.exact[i], 2e-6 * p.magnitude[i] + 1e-30)
              << gguf::type_name(t) << " " << isa_name(isa) << " tokens=" << n_tokens << " i=" << i;
          worst_quant = std::max(worst_quant, std::fabs(y[i] - p.float_ref[i]) / p.magnitude[i]);
        }
        // Against float activations the only extra error is the 8-bit (or 16-bit)
        // rounding of the activations: bounded by ~1% of the magnitude.
        EXPECT_LT(worst_quant, 0.01) << gguf::type_name(t);
      }
    }
  }
  set_isa(saved);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(gguf::type_name(info.param)); });

TEST(Matmul, ScratchGrowsOnceThenStays) {
  const Problem p = make_problem(TensorType::kQ4_0, 256, 8, 4);
  Scratch scratch;
  std::vector<float> y(4 * 8);
  matmul(p.view(), p.x.data(), 4, y.data(), &scratch, nullptr);
  const uint8_t* data = scratch.act.data();
  const size_t cap = scratch.act.capacity();
  EXPECT_GT(cap, 0u);
  for (int i = 0; i < 3; ++i) matmul(p.view(), p.x.data(), i + 1, y.data(), &scratch, nullptr);
  EXPECT_EQ(scratch.act.data(), data);
  EXPECT_EQ(scratch.act.capacity(), cap);
}

TEST(Matmul, RowStrideLargerThanRow) {
  // Rows padded to 64 bytes apart: the padding must be skipped.
  Problem p = make_problem(TensorType::kQ8_0, 64, 3, 1);
  const size_t rb = *gguf::row_bytes(TensorType::kQ8_0, 64);  // 68
  std::vector<uint8_t> padded(3 * 128, 0xAB);
  for (int o = 0; o < 3; ++o) std::memcpy(padded.data() + o * 128, p.w.data() + o * rb, rb);
  WeightView v{TensorType::kQ8_0, padded.data(), 64, 3, 128};
  std::vector<float> y(3);
  Scratch s;
  matmul(v, p.x.data(), 1, y.data(), &s, nullptr);
  for (int o = 0; o < 3; ++o) EXPECT_NEAR(y[o], p.exact[o], 2e-6 * p.magnitude[o]);
}

TEST(Matmul, DequantizeRowMatchesQuant) {
  const Problem p = make_problem(TensorType::kQ6_K, 512, 4, 1);
  std::vector<float> a(512), b(512);
  dequantize_row(p.view(), 2, a.data());
  ASSERT_TRUE(
      quant::dequantize_row(TensorType::kQ6_K, p.w.data() + 2 * p.view().row_bytes, b.data(), 512).is_ok());
  EXPECT_EQ(a, b);
}

TEST(Matmul, SupportsAndValidate) {
  for (TensorType t : kTypes) EXPECT_TRUE(supports(t)) << gguf::type_name(t);
  EXPECT_FALSE(supports(TensorType::kIQ2_XXS));
  EXPECT_FALSE(supports(TensorType::kQ8_K));
  uint8_t dummy[1024] = {};
  EXPECT_TRUE(validate({TensorType::kQ4_K, dummy, 256, 2, 144}).is_ok());
  EXPECT_EQ(validate({TensorType::kQ4_K, dummy, 128, 2, 72}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(validate({TensorType::kQ4_0, dummy, 64, 2, 20}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(validate({TensorType::kIQ2_XXS, dummy, 256, 2, 66}).code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(validate({TensorType::kF16, dummy, 7, 3, 14}).is_ok());
}

}  // namespace
}  // namespace sov::kernels
