#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "quant/fp16.h"

#if defined(SOV_HAVE_X86_KERNELS)
#include "kernels/x86/x86_kernels.h"
#endif

namespace sov::kernels {
namespace {

inline float value(float x) {
  return x;
}
inline float value(uint16_t h) {
  return quant::fp16_to_fp32(h);
}

// The reference: one lane at a time, keys in tiles of 16 with the same online softmax as
// the SIMD kernel (running max, rescaled sum and output), so memory is bounded here too.
template <typename T>
void attention_scalar(const AttentionBlock& b, const T* k, const T* v, const AttentionParams& p,
                      float* scratch) {
  const int hd = p.head_dim;
  float* acc = scratch;  // [hd]
  float s[kAttnLanes];
  for (int lane = 0; lane < b.n_lanes; ++lane) {
    const float* q = b.q[lane];
    std::fill(acc, acc + hd, 0.0f);
    float m = -1e30f, l = 0.0f;
    for (int32_t j0 = b.first[lane]; j0 <= b.last[lane]; j0 += kAttnLanes) {
      const int n = std::min<int32_t>(kAttnLanes, b.last[lane] - j0 + 1);
      float mb = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < n; ++j) {
        const T* kr = k + static_cast<size_t>(j0 + j) * p.kv_stride;
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot += q[d] * value(kr[d]);
        s[j] = dot * p.scale;
        if (p.softcap > 0.0f) s[j] = p.softcap * std::tanh(s[j] / p.softcap);
        mb = std::max(mb, s[j]);
      }
      const float m_new = std::max(m, mb);
      const float c = std::exp(m - m_new);
      m = m_new;
      l *= c;
      for (int d = 0; d < hd; ++d) acc[d] *= c;
      for (int j = 0; j < n; ++j) {
        const float e = std::exp(s[j] - m);
        l += e;
        const T* vr = v + static_cast<size_t>(j0 + j) * p.kv_stride;
        for (int d = 0; d < hd; ++d) acc[d] += e * value(vr[d]);
      }
    }
    float* out = b.out[lane];
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < hd; ++d) out[d] = acc[d] * inv;
  }
}

template <typename T>
void run(const AttentionBlock& block, const T* k, const T* v, const AttentionParams& p, float* scratch,
         Isa isa) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (isa >= Isa::kAvx512 && best_isa() >= Isa::kAvx512 && x86::avx512_attention(block, k, v, p, scratch))
    return;
#else
  (void)isa;
#endif
  attention_scalar(block, k, v, p, scratch);
}

}  // namespace

size_t attention_scratch_floats(int head_dim) {
  // The SIMD kernel: transposed queries and outputs (16 lanes each) and one K and one V tile.
  return static_cast<size_t>(head_dim) * kAttnLanes * 4 + 64;
}

void attention(const AttentionBlock& block, const float* k, const float* v, const AttentionParams& p,
               float* scratch, Isa isa) {
  run(block, k, v, p, scratch, isa);
}

void attention(const AttentionBlock& block, const uint16_t* k, const uint16_t* v, const AttentionParams& p,
               float* scratch, Isa isa) {
  run(block, k, v, p, scratch, isa);
}

}  // namespace sov::kernels
