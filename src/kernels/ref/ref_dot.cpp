// Scalar dot products. Each block's integer sum is exact; blocks are combined in float
// as d_w * d_a * isum (+ min terms), in block order.
#include <cstring>

#include "kernels/ref/ref_kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace sov::kernels::ref {
namespace {

using quant::fp16_to_fp32;
using quant::kQK_K;

// The 5th bit of element j of a Q5_0 / Q5_1 block.
inline int high_bit(uint32_t qh, int j) {
  return static_cast<int>((qh >> j) & 1u) << 4;
}

}  // namespace

float dot_f32(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const float*>(vw);
  const auto* a = static_cast<const float*>(va);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(w[i]) * a[i];
  return static_cast<float>(sum);
}

float dot_f16(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const uint16_t*>(vw);
  const auto* a = static_cast<const float*>(va);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_fp32(w[i])) * a[i];
  return static_cast<float>(sum);
}

float dot_bf16(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const uint16_t*>(vw);
  const auto* a = static_cast<const float*>(va);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(quant::bf16_to_fp32(w[i])) * a[i];
  return static_cast<float>(sum);
}

float dot_q4_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ4_0*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_0*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((w[b].qs[j] & 0xF) - 8) * a[b].qs[j];
      isum += ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + 16];
    }
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_1(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ4_1*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_1*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (w[b].qs[j] & 0xF) * a[b].qs[j];
      isum += (w[b].qs[j] >> 4) * a[b].qs[j + 16];
    }
    // x = d q + m: the min meets the activation block's precomputed d_a * sum(q_a).
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d) * static_cast<float>(isum) +
           fp16_to_fp32(w[b].m) * fp16_to_fp32(a[b].s);
  }
  return sum;
}

float dot_q5_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ5_0*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_0*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    uint32_t qh;
    std::memcpy(&qh, w[b].qh, sizeof qh);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (((w[b].qs[j] & 0xF) | high_bit(qh, j)) - 16) * a[b].qs[j];
      isum += (((w[b].qs[j] >> 4) | high_bit(qh, j + 16)) - 16) * a[b].qs[j + 16];
    }
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q5_1(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ5_1*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_1*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    uint32_t qh;
    std::memcpy(&qh, w[b].qh, sizeof qh);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((w[b].qs[j] & 0xF) | high_bit(qh, j)) * a[b].qs[j];
      isum += ((w[b].qs[j] >> 4) | high_bit(qh, j + 16)) * a[b].qs[j + 16];
    }
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d) * static_cast<float>(isum) +
           fp16_to_fp32(w[b].m) * fp16_to_fp32(a[b].s);
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ8_0*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_0*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    int isum = 0;
    for (int j = 0; j < 32; ++j) isum += w[b].qs[j] * a[b].qs[j];
    sum += fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// K-quants. Element e of a 256-block with 2-bit fields (Q2_K, Q3_K low bits) sits in byte
// 32 * (e / 128) + e % 32 at shift 2 * ((e % 128) / 32).
namespace {
inline int two_bits(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}
}  // namespace

float dot_q2_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ2_K*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_K*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0, msum = 0;
    for (int s = 0; s < 16; ++s) {
      int sub = 0;
      for (int i = 0; i < 16; ++i) sub += two_bits(w[b].qs, 16 * s + i) * a[b].qs[16 * s + i];
      isum += (w[b].scales[s] & 0xF) * sub;
      msum += (w[b].scales[s] >> 4) * a[b].bsums[s];
    }
    sum += a[b].d * fp16_to_fp32(w[b].d) * static_cast<float>(isum) -
           a[b].d * fp16_to_fp32(w[b].dmin) * static_cast<float>(msum);
  }
  return sum;
}

float dot_q3_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ3_K*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_K*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t sc[16];
    quant::unpack_q3_k_scales(w[b].scales, sc);
    int isum = 0;
    for (int s = 0; s < 16; ++s) {
      int sub = 0;
      for (int i = 0; i < 16; ++i) {
        const int e = 16 * s + i;
        const int q = two_bits(w[b].qs, e) - (((w[b].hmask[e % 32] >> (e / 32)) & 1) ? 0 : 4);
        sub += q * a[b].qs[e];
      }
      isum += sc[s] * sub;
    }
    sum += fp16_to_fp32(w[b].d) * a[b].d * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ4_K*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_K*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0, msum = 0;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      quant::get_scale_min_k4(s, w[b].scales, &sc, &m);
      // Sub-block s: nibble (s % 2) of bytes 32 * (s / 2) ...
      const uint8_t* q = w[b].qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      int sub = 0;
      for (int i = 0; i < 32; ++i) sub += ((q[i] >> shift) & 0xF) * a[b].qs[32 * s + i];
      isum += sc * sub;
      msum += m * (a[b].bsums[2 * s] + a[b].bsums[2 * s + 1]);
    }
    sum += fp16_to_fp32(w[b].d) * a[b].d * static_cast<float>(isum) -
           fp16_to_fp32(w[b].dmin) * a[b].d * static_cast<float>(msum);
  }
  return sum;
}

float dot_q5_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ5_K*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_K*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0, msum = 0;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      quant::get_scale_min_k4(s, w[b].scales, &sc, &m);
      const uint8_t* q = w[b].qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      int sub = 0;
      for (int i = 0; i < 32; ++i) {
        const int v = ((q[i] >> shift) & 0xF) | (((w[b].qh[i] >> s) & 1) << 4);
        sub += v * a[b].qs[32 * s + i];
      }
      isum += sc * sub;
      msum += m * (a[b].bsums[2 * s] + a[b].bsums[2 * s + 1]);
    }
    sum += fp16_to_fp32(w[b].d) * a[b].d * static_cast<float>(isum) -
           fp16_to_fp32(w[b].dmin) * a[b].d * static_cast<float>(msum);
  }
  return sum;
}

float dot_q6_k(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const quant::BlockQ6_K*>(vw);
  const auto* a = static_cast<const quant::BlockQ8_K*>(va);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0;
    for (int e0 = 0; e0 < kQK_K; e0 += 16) {
      int sub = 0;
      for (int e = e0; e < e0 + 16; ++e) {
        // Element e: half h = e / 128, group g = (e % 128) / 32, lane l = e % 32.
        const int h = e / 128, g = (e % 128) / 32, l = e % 32;
        const uint8_t lo = w[b].ql[64 * h + 32 * (g % 2) + l];
        const int low4 = g < 2 ? (lo & 0xF) : (lo >> 4);
        const int high2 = (w[b].qh[32 * h + l] >> (2 * g)) & 3;
        sub += ((low4 | (high2 << 4)) - 32) * a[b].qs[e];
      }
      isum += w[b].scales[e0 / 16] * sub;
    }
    sum += fp16_to_fp32(w[b].d) * a[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace sov::kernels::ref
