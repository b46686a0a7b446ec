#include "kernels/vec_ops.h"

#include <cmath>

#include "quant/fp16.h"

#if defined(SOV_HAVE_X86_KERNELS)
#include "kernels/x86/vec_math_avx512.h"
// GCC 12's AVX-512 headers trip -Wuninitialized falsely at every inlined use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace sov::kernels {
namespace {

#if defined(SOV_HAVE_X86_KERNELS)
#define SOV_KT SOV_TARGET_AVX512
using x86::exp512;
using x86::sigmoid512;
using x86::tanh512;

SOV_KT void rms_norm_avx512(const float* x, const float* w, int64_t n, float eps, float* out) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    s0 = _mm512_fmadd_ps(a, a, s0);
    s1 = _mm512_fmadd_ps(b, b, s1);
  }
  double sum = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
  const __m512 vs = _mm512_set1_ps(scale);
  for (i = 0; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i,
                     _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)));
  }
  for (; i < n; ++i) out[i] = x[i] * scale * w[i];
}

SOV_KT void to_half_avx512(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = quant::fp32_to_fp16(x[i]);
}

SOV_KT int64_t argmax_avx512(const float* x, int64_t n) {
  // Per lane the first position of its largest value (strict >: NaN and -inf never win),
  // then the smallest position among the lanes that hold the overall largest.
  const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
  __m512 best = neg_inf;
  __m512i at = _mm512_set1_epi32(-1);
  __m512i pos = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 in = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_mask_loadu_ps(neg_inf, in, x + i);
    const __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
    best = _mm512_mask_mov_ps(best, gt, v);
    at = _mm512_mask_mov_epi32(at, gt, pos);
    pos = _mm512_add_epi32(pos, step);
  }
  const float top = _mm512_reduce_max_ps(best);
  if (!(top > -INFINITY)) return -1;
  const __mmask16 winners = _mm512_cmp_ps_mask(best, _mm512_set1_ps(top), _CMP_EQ_OQ);
  return _mm512_mask_reduce_min_epi32(winners, at);
}

SOV_KT void add_avx512(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) x[i] += y[i];
}

template <bool kGelu>
SOV_KT void gated_avx512(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    __m512 a;
    if constexpr (kGelu) {
      // 0.5 g (1 + tanh(sqrt(2/pi) g (1 + 0.044715 g²)))
      const __m512 inner = _mm512_mul_ps(
          _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), g),
          _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), _mm512_mul_ps(g, g), _mm512_set1_ps(1.0f)));
      a = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), g),
                        _mm512_add_ps(_mm512_set1_ps(1.0f), tanh512(inner)));
    } else {
      a = _mm512_mul_ps(g, sigmoid512(g));
    }
    _mm512_storeu_ps(out + i, _mm512_mul_ps(a, _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) {
    const float g = gate[i];
    const float a = kGelu
                        ? 0.5f * g * (1.0f + std::tanh(0.7978845608028654f * g * (1.0f + 0.044715f * g * g)))
                        : g / (1.0f + std::exp(-g));
    out[i] = a * up[i];
  }
}
#undef SOV_KT
#endif

bool use_avx512() {
#if defined(SOV_HAVE_X86_KERNELS)
  return active_isa() >= Isa::kAvx512;
#else
  return false;
#endif
}

}  // namespace

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* out) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (use_avx512()) return rms_norm_avx512(x, w, n, eps, out);
#endif
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void to_half(const float* x, int64_t n, uint16_t* out) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (use_avx512()) return to_half_avx512(x, n, out);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = quant::fp32_to_fp16(x[i]);
}

int64_t argmax(const float* x, int64_t n) {
#if defined(SOV_HAVE_X86_KERNELS)
  // 32-bit positions in the vector path.
  if (use_avx512() && n < (int64_t{1} << 31)) return argmax_avx512(x, n);
#endif
  int64_t best = -1;
  float best_value = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] > best_value) {  // false for NaN
      best_value = x[i];
      best = i;
    }
  }
  return best;
}

void add(float* x, const float* y, int64_t n) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (use_avx512()) return add_avx512(x, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (use_avx512()) return gated_avx512<false>(gate, up, n, out);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void gelu_mul(const float* gate, const float* up, int64_t n, float* out) {
#if defined(SOV_HAVE_X86_KERNELS)
  if (use_avx512()) return gated_avx512<true>(gate, up, n, out);
#endif
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = 0.5f * g * (1.0f + std::tanh(0.7978845608028654f * g * (1.0f + 0.044715f * g * g))) * up[i];
  }
}

}  // namespace sov::kernels
