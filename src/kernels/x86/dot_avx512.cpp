// AVX-512 kernels: the integer kernels of int8_kernels.inc with VNNI (vpdpbusd replaces
// maddubs + madd), float formats with 16-wide FMA and masked tails.
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

// GCC 12's AVX-512 headers build results from _mm512_undefined_*(), which trips
// -Wuninitialized falsely at every inlined use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace sov::kernels::x86 {
namespace {

#define SOV_KT SOV_TARGET_AVX512

SOV_KT inline __m256i mul_sum_u8s8(__m256i u, __m256i s) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

#include "kernels/x86/int8_kernels.inc"

SOV_KT inline __m512 load_w16(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}
SOV_KT inline __m512 load_w16(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}
struct Bf16 {
  uint16_t bits;
};
SOV_KT inline __m512 load_w16(const Bf16* p, __mmask16 m) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

template <int NT, typename W>
SOV_KT inline void float_kernel(int64_t n, const void* vw, const void* va, size_t stride, float* out) {
  const W* w = static_cast<const W*>(vw);
  const float* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = act_row<float>(va, stride, t);
  constexpr int na = NT == 1 ? 4 : 2;
  __m512 acc[NT * na];
  for (auto& v : acc) v = _mm512_setzero_ps();
  const __mmask16 all = 0xFFFF;
  int64_t i = 0;
  for (; i + 16 * na <= n; i += 16 * na) {
    for (int k = 0; k < na; ++k) {
      const __m512 wv = load_w16(w + i + 16 * k, all);
      for (int t = 0; t < NT; ++t) {
        acc[t * na + k] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(a[t] + i + 16 * k), acc[t * na + k]);
      }
    }
  }
  for (; i < n; i += 16) {  // the rest, 16 at a time, the last one masked
    const int64_t left = n - i;
    const __mmask16 m = left >= 16 ? all : static_cast<__mmask16>((1u << left) - 1);
    const __m512 wv = load_w16(w + i, m);
    for (int t = 0; t < NT; ++t)
      acc[t * na] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, a[t] + i), acc[t * na]);
  }
  for (int t = 0; t < NT; ++t) {
    __m512 s = acc[t * na];
    for (int k = 1; k < na; ++k) s = _mm512_add_ps(s, acc[t * na + k]);
    out[t] = _mm512_reduce_add_ps(s);
  }
}

#define SOV_FLOAT_ENTRY(name, W)                                                              \
  SOV_KT float name(int64_t n, const void* w, const void* a) {                                \
    float out;                                                                                \
    float_kernel<1, W>(n, w, a, 0, &out);                                                     \
    return out;                                                                               \
  }                                                                                           \
  SOV_KT void name##_x4(int64_t n, const void* w, const void* a, size_t stride, float* out) { \
    float_kernel<4, W>(n, w, a, stride, out);                                                 \
  }

SOV_FLOAT_ENTRY(dot_f32, float)
SOV_FLOAT_ENTRY(dot_f16, uint16_t)
SOV_FLOAT_ENTRY(dot_bf16, Bf16)
#undef SOV_FLOAT_ENTRY

#undef SOV_KT

}  // namespace

VecDotFn avx512_vec_dot(gguf::TensorType t) {
  switch (t) {
    case gguf::TensorType::kF32: return dot_f32;
    case gguf::TensorType::kF16: return dot_f16;
    case gguf::TensorType::kBF16: return dot_bf16;
    default: return int8_vec_dot(t);
  }
}

VecDotX4Fn avx512_vec_dot_x4(gguf::TensorType t) {
  switch (t) {
    case gguf::TensorType::kF32: return dot_f32_x4;
    case gguf::TensorType::kF16: return dot_f16_x4;
    case gguf::TensorType::kBF16: return dot_bf16_x4;
    default: return int8_vec_dot_x4(t);
  }
}

}  // namespace sov::kernels::x86
