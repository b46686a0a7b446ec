#include "engine/encoder/vec_math.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include "engine/ops.h"
#include "kernels/isa.h"
#include "quant/fp16.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define SOV_ENC_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace sov::engine {
namespace {

const uint16_t* gelu_table();

bool use_avx2() {
#if defined(__x86_64__)
  return kernels::active_isa() >= kernels::Isa::kAvx2;
#else
  return false;
#endif
}

#if defined(__x86_64__)
// exp(x) for 8 lanes: x = n·ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial
// (Cephes coefficients), then scaled by 2^n through the exponent bits. Inputs below -87.3
// give 0 (so -inf gives 0), above 88.7 give +inf.
SOV_ENC_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.7228391f), lo = _mm256_set1_ps(-87.3365448f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n in two halves so that n = 128 (x near 88.7) does not overflow the exponent field.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);
  const __m256 s1 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
  const __m256 s2 = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_andnot_ps(underflow, y);
}

SOV_ENC_AVX2 inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

SOV_ENC_AVX2 inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

SOV_ENC_AVX2 void softmax_avx2(float* x, int64_t n) {
  __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float max = hmax8(vmax);
  for (; i < n; ++i) max = std::max(max, x[i]);
  if (max == -std::numeric_limits<float>::infinity()) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  const __m256 shift = _mm256_set1_ps(max);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
    _mm256_storeu_ps(x + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = hsum8(vsum);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= 1.0f / sum;
}

// silu(g) = g / (1 + exp(-g))
SOV_ENC_AVX2 inline __m256 silu8(__m256 g) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

SOV_ENC_AVX2 void swiglu_avx2(const float* gate, float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(up + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) up[i] = silu(gate[i]) * up[i];
}

// The table GELU for 8 lanes: F16C rounds to nearest even like fp32_to_fp16; a 32-bit gather
// at 2-byte steps fetches each entry in its low half.
SOV_ENC_AVX2 void gelu_avx2(float* x, int64_t n, const uint16_t* table) {
  const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
  const __m256i low16 = _mm256_set1_epi32(0xffff);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256i h = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    const __m256i g =
        _mm256_and_si256(_mm256_i32gather_epi32(reinterpret_cast<const int*>(table), h, 2), low16);
    const __m256i packed =
        _mm256_permute4x64_epi64(_mm256_packus_epi32(g, g), 0x08);  // 8 x u16 in the low half
    const __m256 y = _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
    // v <= -10: 0; v >= 10 or NaN: v; else the table.
    const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GT_OQ), _mm256_cmp_ps(v, hi, _CMP_LT_OQ));
    const __m256 big = _mm256_cmp_ps(v, lo, _CMP_NLE_UQ);  // not (v <= -10): keeps v, incl. NaN
    _mm256_storeu_ps(x + i, _mm256_blendv_ps(_mm256_and_ps(v, big), y, in_range));
  }
  for (; i < n; ++i) {
    const float v = x[i];
    if (v <= -10.0f) {
      x[i] = 0.0f;
    } else if (v < 10.0f) {
      x[i] = quant::fp16_to_fp32(table[quant::fp32_to_fp16(v)]);
    }
  }
}

SOV_ENC_AVX2 void silu_avx2(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, silu8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) x[i] = silu(x[i]);
}
#endif

// gelu_tanh(h) rounded to fp16, for every fp16 bit pattern h.
const uint16_t* gelu_table() {
  static const std::unique_ptr<uint16_t[]> table = [] {
    auto t = std::make_unique<uint16_t[]>((1 << 16) + 2);  // +2: 32-bit gathers of the last entry
    t[1 << 16] = t[(1 << 16) + 1] = 0;
    for (uint32_t h = 0; h < (1u << 16); ++h) {
      t[h] = quant::fp32_to_fp16(gelu_tanh(quant::fp16_to_fp32(static_cast<uint16_t>(h))));
    }
    return t;
  }();
  return table.get();
}

}  // namespace

void softmax_fast(float* x, int64_t n) {
#if defined(__x86_64__)
  if (use_avx2()) return softmax_avx2(x, n);
#endif
  softmax(x, static_cast<int>(n));
}

void swiglu_inplace(const float* gate, float* up, int64_t n) {
#if defined(__x86_64__)
  if (use_avx2()) return swiglu_avx2(gate, up, n);
#endif
  for (int64_t i = 0; i < n; ++i) up[i] = silu(gate[i]) * up[i];
}

void silu_inplace(float* x, int64_t n) {
#if defined(__x86_64__)
  if (use_avx2()) return silu_avx2(x, n);
#endif
  for (int64_t i = 0; i < n; ++i) x[i] = silu(x[i]);
}

void gelu_inplace(float* x, int64_t n) {
  const uint16_t* table = gelu_table();
#if defined(__x86_64__)
  if (use_avx2()) return gelu_avx2(x, n, table);
#endif
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v <= -10.0f) {
      x[i] = 0.0f;
    } else if (v < 10.0f) {  // v >= 10 (and NaN) stay as they are
      x[i] = quant::fp16_to_fp32(table[quant::fp32_to_fp16(v)]);
    }
  }
}

}  // namespace sov::engine
