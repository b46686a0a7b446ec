// AVX2 + FMA + F16C kernels: integer products with maddubs/madd, blocks combined with FMA
// into 8 float lanes; float formats with 8-wide FMA; activation converters.
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace sov::kernels::x86 {
namespace {

#define SOV_KT SOV_TARGET_AVX2

SOV_KT inline __m256i mul_sum_u8s8(__m256i u, __m256i s) {
  return dot_u8_avx2(u, s);
}

#include "kernels/x86/int8_kernels.inc"

// ---- Float weights with float activations (F16/BF16 activations are pre-rounded floats).

SOV_KT inline __m256 load_w8(const float* p) {
  return _mm256_loadu_ps(p);
}
SOV_KT inline __m256 load_w8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
struct Bf16 {
  uint16_t bits;
};
SOV_KT inline __m256 load_w8(const Bf16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
SOV_KT inline float scalar_w(float v) {
  return v;
}
SOV_KT inline float scalar_w(uint16_t v) {
  return _cvtsh_ss(v);
}
SOV_KT inline float scalar_w(Bf16 v) {
  const uint32_t u = static_cast<uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

template <int NT, typename W>
SOV_KT inline void float_kernel(int64_t n, const void* vw, const void* va, size_t stride, float* out) {
  const W* w = static_cast<const W*>(vw);
  const float* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = act_row<float>(va, stride, t);
  constexpr int na = NT == 1 ? 4 : 2;  // independent accumulators per token
  __m256 acc[NT * na];
  for (auto& v : acc) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * na <= n; i += 8 * na) {
    for (int k = 0; k < na; ++k) {
      const __m256 wv = load_w8(w + i + 8 * k);
      for (int t = 0; t < NT; ++t)
        acc[t * na + k] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(a[t] + i + 8 * k), acc[t * na + k]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 wv = load_w8(w + i);
    for (int t = 0; t < NT; ++t) acc[t * na] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(a[t] + i), acc[t * na]);
  }
  for (int t = 0; t < NT; ++t) {
    __m256 s = acc[t * na];
    for (int k = 1; k < na; ++k) s = _mm256_add_ps(s, acc[t * na + k]);
    float sum = hsum_ps(s);
    for (int64_t j = i; j < n; ++j) sum += scalar_w(w[j]) * a[t][j];
    out[t] = sum;
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

// ---- Activation converters, byte-identical to ref::from_float_*.

// One block of 32 as ggml's x86 quantize_row_q8_0: d = amax / 127 (returned unrounded),
// q = round_half_even(x * (127 / amax)). Returns sum(q).
SOV_KT inline int quantize_block_32(const float* x, float* d_out, int8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
  }
  __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(amax, 1), _mm256_castps256_ps128(amax));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const float max = _mm_cvtss_f32(m4);
  *d_out = max / 127.0f;
  const __m256 id = _mm256_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
  __m256i i[4];
  for (int k = 0; k < 4; ++k) {
    i[k] = _mm256_cvtps_epi32(
        _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  const __m256i total = _mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3]));
  // Pack 32 int32 into 32 int8; the packs interleave 128-bit lanes, the permute undoes it.
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q),
                      _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

SOV_KT inline uint16_t to_half(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

SOV_KT void from_float_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_0*>(vy);
  for (int64_t b = 0; b < n / 32; ++b) {
    float d;
    quantize_block_32(x + 32 * b, &d, y[b].qs);
    y[b].d = to_half(d);
  }
}

SOV_KT void from_float_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_1*>(vy);
  for (int64_t b = 0; b < n / 32; ++b) {
    float d;
    const int sum = quantize_block_32(x + 32 * b, &d, y[b].qs);
    y[b].d = to_half(d);
    y[b].s = to_half(d * static_cast<float>(sum));
  }
}

// As quant::quantize_row_q8_k: the signed value of largest magnitude maps to -127.
SOV_KT void from_float_q8_k(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_K*>(vy);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / quant::kQK_K; ++b, x += quant::kQK_K) {
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < quant::kQK_K; j += 8)
      amax_v = _mm256_max_ps(amax_v, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(amax_v, 1), _mm256_castps256_ps128(amax_v));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof y[b]);
      continue;
    }
    // The first element whose magnitude is amax gives the sign (as the scalar loop), found 8
    // at a time: the element-wise search was most of this function's time.
    float max = 0.0f;
    const __m256 target = _mm256_set1_ps(amax);
    for (int j = 0; j < quant::kQK_K; j += 8) {
      const __m256 mag = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j));
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(mag, target, _CMP_EQ_OQ));
      if (hit != 0) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i limit = _mm256_set1_epi32(127);
    for (int j = 0; j < quant::kQK_K; j += 32) {
      __m256i i[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vs);
        i[k] = _mm256_min_epi32(
            limit, _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
      }
      const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j),
                          _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    // Sums of 16: widen to int16 and add pairs horizontally.
    for (int j = 0; j < quant::kQK_K; j += 32) {
      const __m256i q = loadu_256(y[b].qs + j);
      const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
      const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
      const __m256i s32lo = _mm256_madd_epi16(lo, _mm256_set1_epi16(1));
      const __m256i s32hi = _mm256_madd_epi16(hi, _mm256_set1_epi16(1));
      __m256i h = _mm256_hadd_epi32(s32lo, s32hi);  // [lo0+1, lo2+3, hi0+1, hi2+3 | lo4+5, ...]
      h = _mm256_hadd_epi32(h, h);                  // [lo0..3, hi0..3, ... | lo4..7, hi4..7, ...]
      const int lo_sum = _mm256_extract_epi32(h, 0) + _mm256_extract_epi32(h, 4);
      const int hi_sum = _mm256_extract_epi32(h, 1) + _mm256_extract_epi32(h, 5);
      y[b].bsums[j / 16] = static_cast<int16_t>(lo_sum);
      y[b].bsums[j / 16 + 1] = static_cast<int16_t>(hi_sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

SOV_KT void from_float_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<float*>(vy);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) y[i] = _cvtsh_ss(to_half(x[i]));
}

#undef SOV_KT

}  // namespace

VecDotFn avx2_vec_dot(gguf::TensorType t) {
  switch (t) {
    case gguf::TensorType::kF32: return dot_f32;
    case gguf::TensorType::kF16: return dot_f16;
    case gguf::TensorType::kBF16: return dot_bf16;
    default: return int8_vec_dot(t);
  }
}

VecDotX4Fn avx2_vec_dot_x4(gguf::TensorType t) {
  switch (t) {
    case gguf::TensorType::kF32: return dot_f32_x4;
    case gguf::TensorType::kF16: return dot_f16_x4;
    case gguf::TensorType::kBF16: return dot_bf16_x4;
    default: return int8_vec_dot_x4(t);
  }
}

FromFloatFn avx2_from_float(gguf::TensorType t) {
  using gguf::TensorType;
  switch (t) {
    case TensorType::kF16: return from_float_f16;
    case TensorType::kQ4_0:
    case TensorType::kQ5_0:
    case TensorType::kQ8_0: return from_float_q8_0;
    case TensorType::kQ4_1:
    case TensorType::kQ5_1: return from_float_q8_1;
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K: return from_float_q8_k;
    default: return nullptr;
  }
}

}  // namespace sov::kernels::x86
