// The vectorised element-wise steps against plain scalar formulas, on the ISA this CPU
// has and on the forced-scalar path.
#include "engine/encoder/vec_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/ops.h"
#include "kernels/isa.h"
#include "quant/fp16.h"

namespace sov::engine {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs the body once per available ISA (scalar and the best), restoring the ISA after.
template <typename Fn>
void for_each_isa(Fn&& fn) {
  const kernels::Isa saved = kernels::active_isa();
  for (kernels::Isa isa : {kernels::Isa::kScalar, kernels::best_isa()}) {
    kernels::set_isa(isa);
    SCOPED_TRACE(std::string(kernels::isa_name(isa)));
    fn();
  }
  kernels::set_isa(saved);
}

TEST(VecMath, SoftmaxMatchesScalar) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 8.0f);
  for_each_isa([&] {
    for (int n : {1, 3, 8, 9, 31, 64, 257}) {
      std::vector<float> x(n);
      for (float& v : x) v = dist(rng);
      if (n > 2) x[1] = -kInf;  // a masked score
      std::vector<float> want = x;
      softmax(want.data(), n);
      softmax_fast(x.data(), n);
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        EXPECT_NEAR(x[i], want[i], 1e-6) << n << " " << i;
        sum += x[i];
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
      if (n > 2) {
        EXPECT_EQ(x[1], 0.0f);
      }
    }
    std::vector<float> masked(12, -kInf);
    softmax_fast(masked.data(), 12);
    for (float v : masked) EXPECT_EQ(v, 0.0f);
  });
}

TEST(VecMath, SiluMatchesScalar) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 100.0f; v += 0.37f) x.push_back(v);
  x.insert(x.end(), {-87.5f, -87.3f, 88.7f, 89.0f, 0.0f, -0.0f, 1e-20f});
  for_each_isa([&] {
    std::vector<float> y = x;
    silu_inplace(y.data(), static_cast<int64_t>(y.size()));
    std::vector<float> gate = x, up(x.size(), 1.5f);
    swiglu_inplace(gate.data(), up.data(), static_cast<int64_t>(up.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = x[i] / (1.0 + std::exp(-static_cast<double>(x[i])));
      const double tol = 1e-6 * std::max(1.0, std::fabs(want));
      EXPECT_NEAR(y[i], want, tol) << x[i];
      EXPECT_NEAR(up[i], 1.5 * want, 1.5 * tol) << x[i];
    }
  });
}

TEST(VecMath, GeluIsTheFp16Table) {
  // Every finite fp16 value, plus values between them and the edges of the table's range.
  std::vector<float> x;
  for (uint32_t h = 0; h < (1u << 16); ++h) {
    const float v = quant::fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isfinite(v)) x.push_back(v);
  }
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-12.0f, 12.0f);
  for (int i = 0; i < 1000; ++i) x.push_back(dist(rng));
  x.insert(x.end(), {-10.0f, -9.999f, 9.999f, 10.0f, 1e30f, -1e30f});
  std::vector<float> scalar;
  for_each_isa([&] {
    std::vector<float> y = x;
    gelu_inplace(y.data(), static_cast<int64_t>(y.size()));
    if (scalar.empty()) {
      scalar = y;
      for (size_t i = 0; i < x.size(); ++i) {
        const float v = x[i];
        const float want = v <= -10.0f ? 0.0f : v >= 10.0f ? v : gelu_tanh(v);
        // fp16 rounding of the input and of the result.
        EXPECT_NEAR(y[i], want, 2e-3 * std::max(1.0f, std::fabs(want)) + 1e-3 * std::fabs(v)) << v;
      }
    } else {
      for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], scalar[i]) << x[i];  // bit-identical paths
    }
  });
  std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN()};
  for_each_isa([&] {
    std::vector<float> y(9, std::numeric_limits<float>::quiet_NaN());
    gelu_inplace(y.data(), 9);
    for (float v : y) EXPECT_TRUE(std::isnan(v));
  });
}

}  // namespace
}  // namespace sov::engine
