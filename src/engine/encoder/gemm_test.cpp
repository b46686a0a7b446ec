// The blocked GEMM against a double-precision product, for every float weight type, odd
// shapes (edges of panels, token blocks and input blocks), strided rows, both SIMD paths;
// and the property the encoder relies on: a token's outputs do not depend on the others.
#include "engine/encoder/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "quant/quant.h"

namespace sov::engine {
namespace {

using gguf::TensorType;

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // the stored values, widened
  kernels::WeightView view;
};

Weights make_weights(TensorType type, int64_t n_in, int64_t n_out, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Weights w;
  const size_t rb = *gguf::row_bytes(type, n_in) + 8;  // padded rows: row_bytes > packed size
  w.bytes.resize(rb * n_out);
  w.values.resize(static_cast<size_t>(n_in * n_out));
  std::vector<float> row(n_in);
  for (int64_t o = 0; o < n_out; ++o) {
    for (float& v : row) v = dist(rng);
    EXPECT_TRUE(quant::quantize_row(type, row.data(), w.bytes.data() + o * rb, n_in).is_ok());
    EXPECT_TRUE(quant::dequantize_row(type, w.bytes.data() + o * rb, &w.values[o * n_in], n_in).is_ok());
  }
  w.view = {type, w.bytes.data(), n_in, n_out, rb};
  return w;
}

TEST(Gemm, MatchesDoubleProduct) {
  const kernels::Isa saved = kernels::active_isa();
  if (kernels::best_isa() < kernels::Isa::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (kernels::Isa isa : {kernels::Isa::kAvx2, kernels::best_isa()}) {
    kernels::set_isa(isa);
    for (TensorType type : {TensorType::kF32, TensorType::kF16, TensorType::kBF16}) {
      for (auto [n_in, n_out, n_tok] :
           {std::tuple{7, 5, 1}, {32, 33, 9}, {300, 70, 13}, {513, 17, 6}, {64, 300, 17}}) {
        SCOPED_TRACE(testing::Message() << kernels::isa_name(isa) << " " << gguf::type_name(type) << " "
                                        << n_in << "x" << n_out << " tokens " << n_tok);
        Weights w = make_weights(type, n_in, n_out, rng);
        ASSERT_TRUE(gemm_supported(w.view));
        const int64_t ldx = n_in + 3, ldy = n_out + 5;
        std::vector<float> x(n_tok * ldx);
        for (float& v : x) v = dist(rng);
        std::vector<float> y(n_tok * ldy, -7.0f);
        ThreadPool pool(2);
        gemm(w.view, x.data(), n_tok, y.data(), &pool, ldx, ldy);
        for (int t = 0; t < n_tok; ++t) {
          for (int o = 0; o < n_out; ++o) {
            double want = 0, scale = 0;
            for (int i = 0; i < n_in; ++i) {
              want += static_cast<double>(x[t * ldx + i]) * w.values[o * n_in + i];
              scale += std::fabs(static_cast<double>(x[t * ldx + i]) * w.values[o * n_in + i]);
            }
            ASSERT_NEAR(y[t * ldy + o], want, 1e-6 * scale + 1e-6) << t << " " << o;
          }
          for (int o = n_out; o < ldy; ++o) ASSERT_EQ(y[t * ldy + o], -7.0f) << "wrote past the row";
        }
      }
    }
  }
  kernels::set_isa(saved);
}

TEST(Gemm, TokensAreIndependent) {
  if (kernels::best_isa() < kernels::Isa::kAvx2) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Weights w = make_weights(TensorType::kF32, 600, 100, rng);
  const int n_tok = 23;
  std::vector<float> x(n_tok * 600);
  for (float& v : x) v = dist(rng);
  std::vector<float> all(n_tok * 100), one(100);
  ThreadPool pool(2);
  gemm(w.view, x.data(), n_tok, all.data(), &pool);
  for (int t = 0; t < n_tok; ++t) {
    gemm(w.view, &x[t * 600], 1, one.data(), nullptr);
    for (int o = 0; o < 100; ++o) ASSERT_EQ(all[t * 100 + o], one[o]) << t << " " << o;
  }
}

TEST(Gemm, QuantizedTypesAreNotSupported) {
  std::mt19937 rng(5);
  Weights w = make_weights(TensorType::kQ8_0, 64, 4, rng);
  EXPECT_FALSE(gemm_supported(w.view));
}

}  // namespace
}  // namespace sov::engine
