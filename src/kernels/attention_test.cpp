// Attention kernels against a double-precision two-pass softmax, on every ISA and both cache
// element types (float, IEEE half; the reference reads the same rounded halves): lane counts
// 1..16 (both AVX-512 kernels: per lane up to 8, 16-lane vectors above), ragged causal ranges, sliding
// windows, soft-capping, head sizes with and without a SIMD kernel, and a long context (many tiles, including
// a partial last tile).
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "quant/fp16.h"

namespace sov::kernels {
namespace {

struct Case {
  int head_dim;
  int n_lanes;
  int n_ctx;
  float softcap;
  int window;  // 0: none
};

inline float stored(float x, float) {
  return x;
}
inline uint16_t stored(float x, uint16_t) {
  return quant::fp32_to_fp16(x);
}
inline double value(float x) {
  return x;
}
inline double value(uint16_t h) {
  return quant::fp16_to_fp32(h);
}

template <typename T>
double max_error(const Case& c, Isa isa, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int hd = c.head_dim;
  const size_t stride = static_cast<size_t>(hd) * 3;  // positions hold other heads too
  std::vector<T> k(stride * c.n_ctx), v(stride * c.n_ctx);
  std::vector<float> q(static_cast<size_t>(hd) * c.n_lanes);
  for (auto& x : k) x = stored(dist(rng), T{});
  for (auto& x : v) x = stored(dist(rng), T{});
  for (auto& x : q) x = dist(rng);
  std::vector<float> out(q.size(), -7.0f);
  AttentionBlock b;
  b.n_lanes = c.n_lanes;
  std::uniform_int_distribution<int> pos(0, c.n_ctx - 1);
  for (int lane = 0; lane < c.n_lanes; ++lane) {
    b.q[lane] = q.data() + lane * hd;
    b.out[lane] = out.data() + lane * hd;
    b.last[lane] = lane == 0 ? c.n_ctx - 1 : pos(rng);
    b.first[lane] = c.window > 0 ? std::max(0, b.last[lane] - c.window + 1) : 0;
  }
  AttentionParams p;
  p.head_dim = hd;
  p.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  p.softcap = c.softcap;
  p.kv_stride = stride;
  std::vector<float> scratch(attention_scratch_floats(hd));
  attention(b, k.data() + hd, v.data() + hd, p, scratch.data(), isa);  // the second head of each row

  double worst = 0;
  for (int lane = 0; lane < c.n_lanes; ++lane) {
    std::vector<double> s;
    for (int j = b.first[lane]; j <= b.last[lane]; ++j) {
      double dot = 0;
      for (int d = 0; d < hd; ++d) dot += double(q[lane * hd + d]) * value(k[j * stride + hd + d]);
      dot *= p.scale;
      if (c.softcap > 0) dot = c.softcap * std::tanh(dot / c.softcap);
      s.push_back(dot);
    }
    const double mx = *std::max_element(s.begin(), s.end());
    double sum = 0;
    for (auto& x : s) sum += (x = std::exp(x - mx));
    for (int d = 0; d < hd; ++d) {
      double o = 0;
      for (size_t j = 0; j < s.size(); ++j) o += s[j] / sum * value(v[(b.first[lane] + j) * stride + hd + d]);
      worst = std::max(worst, std::fabs(o - out[lane * hd + d]));
    }
  }
  return worst;
}

TEST(Attention, MatchesDoublePrecisionOnEveryIsa) {
  const Case cases[] = {
      {64, 1, 1, 0, 0},
      {64, 4, 37, 0, 0},
      {64, 16, 100, 0, 0},
      {32, 7, 64, 0, 0},
      {128, 16, 50, 0, 0},
      {64, 16, 300, 0, 8},
      {64, 9, 70, 5.0f, 0},
      {48, 5, 40, 0, 0},  // 48: scalar only
      {256, 3, 20, 0, 0},
      {64, 16, 2000, 0, 0},
      {8, 2, 12, 0, 0},
      // Few lanes (the per-lane AVX-512 kernel): long contexts, windows, soft-capping.
      {64, 3, 2000, 0, 0},
      {64, 4, 300, 0, 8},
      {128, 2, 100, 5.0f, 0},
      {32, 8, 200, 0, 0},
      {256, 1, 33, 0, 0},
      {128, 8, 17, 0, 5},
  };
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa > best_isa()) continue;
    uint32_t seed = 1;
    for (const Case& c : cases) {
      for (bool half : {false, true}) {
        const double err = half ? max_error<uint16_t>(c, isa, seed) : max_error<float>(c, isa, seed);
        EXPECT_LT(err, 2e-5) << isa_name(isa) << (half ? " f16" : " f32") << " hd=" << c.head_dim
                             << " lanes=" << c.n_lanes << " ctx=" << c.n_ctx << " cap=" << c.softcap
                             << " window=" << c.window;
      }
      ++seed;
    }
  }
}

}  // namespace
}  // namespace sov::kernels
