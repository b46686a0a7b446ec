// The vectorized row operations against double-precision formulas, on every ISA, with
// lengths that leave SIMD remainders.
#include "kernels/vec_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "quant/fp16.h"

namespace sov::kernels {
namespace {

TEST(VecOps, MatchDoublePrecisionOnEveryIsa) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const Isa saved = active_isa();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa > best_isa()) continue;
    set_isa(isa);
    for (int n : {1, 15, 16, 33, 2048, 2051}) {
      std::vector<float> x(n), w(n), y(n), out(n);
      for (int i = 0; i < n; ++i) x[i] = dist(rng), w[i] = dist(rng), y[i] = dist(rng);
      x[0] = -100.0f;  // exp and tanh at the ends of their range
      if (n > 1) x[1] = 90.0f;

      rms_norm(x.data(), w.data(), n, 1e-5f, out.data());
      double ss = 0;
      for (float v : x) ss += double(v) * v;
      const double scale = 1.0 / std::sqrt(ss / n + 1e-5);
      for (int i = 0; i < n; ++i)
        ASSERT_NEAR(out[i], x[i] * scale * w[i], 1e-5 * std::fabs(x[i] * scale * w[i]) + 1e-6);

      silu_mul(x.data(), y.data(), n, out.data());
      for (int i = 0; i < n; ++i) {
        const double want = x[i] / (1.0 + std::exp(-double(x[i]))) * y[i];
        ASSERT_NEAR(out[i], want, 2e-6 * std::fabs(want) + 1e-6) << isa_name(isa) << " silu x=" << x[i];
      }
      gelu_mul(x.data(), y.data(), n, out.data());
      for (int i = 0; i < n; ++i) {
        const double g = x[i];
        const double want =
            0.5 * g * (1.0 + std::tanh(0.7978845608028654 * g * (1.0 + 0.044715 * g * g))) * y[i];
        ASSERT_NEAR(out[i], want, 2e-6 * std::fabs(g * y[i]) + 1e-6) << isa_name(isa) << " gelu x=" << x[i];
      }
      std::vector<float> sum = x;
      add(sum.data(), y.data(), n);
      for (int i = 0; i < n; ++i) ASSERT_EQ(sum[i], x[i] + y[i]);
      std::vector<uint16_t> half(n);
      x[n - 1] = 1e6f;  // past the half range: infinity
      to_half(x.data(), n, half.data());
      for (int i = 0; i < n; ++i)
        ASSERT_EQ(half[i], quant::fp32_to_fp16(x[i])) << isa_name(isa) << " x=" << x[i];
    }
  }
  set_isa(saved);
}

// argmax on every ISA against the obvious loop: ties go to the first position, NaN and -inf
// never win, sizes around the vector width.
TEST(VecOps, ArgmaxIsTheFirstLargestAndSkipsNan) {
  const Isa saved = active_isa();
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> small(-3, 3);  // many ties
  for (Isa isa : {Isa::kScalar, Isa::kAvx512}) {
    if (isa > best_isa()) continue;
    set_isa(isa);
    for (int n : {1, 7, 16, 17, 31, 32000}) {
      for (int round = 0; round < 20; ++round) {
        std::vector<float> x(n);
        for (auto& v : x) v = static_cast<float>(small(rng));
        if (round % 3 == 1) x[rng() % n] = NAN;
        if (round % 3 == 2) x[rng() % n] = INFINITY;
        int64_t want = -1;
        float best = -INFINITY;
        for (int i = 0; i < n; ++i) {
          if (x[i] > best) best = x[i], want = i;
        }
        ASSERT_EQ(argmax(x.data(), n), want) << isa_name(isa) << " n=" << n << " round " << round;
      }
    }
    std::vector<float> none = {NAN, -INFINITY, NAN};
    EXPECT_EQ(argmax(none.data(), 3), -1) << isa_name(isa);
    EXPECT_EQ(argmax(none.data(), 0), -1) << isa_name(isa);
  }
  set_isa(saved);
}

}  // namespace
}  // namespace sov::kernels
