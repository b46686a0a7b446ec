// AVX-512 (VNNI) kernels for the packed layouts of packed.h: 16 weight rows per register
// lane set, one vpdpbusd per 4 columns of 16 rows, up to 8 tokens per pass
// over a group of rows, cache-blocked so a panel of packed rows stays in L2 while every
// tile of tokens runs over it.
//
// Activation formats (internal; one row per token, `act_stride` bytes apart). The 8-bit
// values and scales are exactly those of the row-major path (ggml's Q8_0 / Q8_K
// quantization), so results differ from it only by float summation order:
//   Q8_0, Q4_0 weights: per 32 values {float d; int32 init; int8 qs[32]} where
//                       init = -offset * sum(qs) undoes the unsigned weight offset
//                       (128 for Q8_0 stored as q + 128, 8 for Q4_0's 0..15 nibbles)
//   Q4_K:               per 256 {float d; int16 sums of each 32 qs [8]; int8 qs[256]}
//   Q6_K:               per 256 {float d; int32 -32 * sums of each 16 qs [16]; int8 qs[256]}
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/packed.h"
#include "kernels/ref/ref_kernels.h"
#include "kernels/type_kernels.h"
#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

// GCC 12's AVX-512 headers build results from _mm512_undefined_*(), which trips
// -Wuninitialized falsely at every inlined use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Everything up to the table at the end is AVX-512 code (also lambdas, which do not inherit
// function target attributes); it only runs after the CPU check of the dispatch.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace sov::kernels::x86 {
namespace {

using gguf::TensorType;

#define SOV_KT SOV_TARGET_AVX512

// Calls f(std::integral_constant<int, I>) for I in the sequence: loop bodies whose indices
// must be compile-time constants (immediate shifts, fixed offsets) without relying on the
// optimizer to unroll.
template <typename F, int... I>
SOV_KT inline void static_for(std::integer_sequence<int, I...>, F&& f) {
  (f(std::integral_constant<int, I>{}), ...);
}

struct ActB32 {
  float d;
  int32_t init;
  int8_t qs[32];
};
static_assert(sizeof(ActB32) == 40);
struct ActK4 {
  float d;
  int16_t bsum32[8];
  int8_t qs[256];
};
static_assert(sizeof(ActK4) == 276);
struct ActK6 {
  float d;
  int32_t init[16];
  int8_t qs[256];
};
static_assert(sizeof(ActK6) == 324);

constexpr size_t kGroupBlockQ8_0 = 544, kGroupBlockQ4_0 = 288, kGroupBlockQ4_K = 2304, kGroupBlockQ6_K = 3360;

// ---- Activation conversion (one token row).

template <int kOffset>
void act_b32(const float* x, uint8_t* out, int64_t n) {
  const FromFloatFn q8 = type_kernels(TensorType::kQ8_0)->from_float;
  auto* a = reinterpret_cast<ActB32*>(out);
  for (int64_t b = 0; b < n / 32; ++b) {
    quant::BlockQ8_0 blk;
    q8(x + 32 * b, &blk, 32);
    a[b].d = quant::fp16_to_fp32(blk.d);
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += blk.qs[j];
    a[b].init = -kOffset * sum;
    std::memcpy(a[b].qs, blk.qs, 32);
  }
}

void act_k4(const float* x, uint8_t* out, int64_t n) {
  const FromFloatFn q8k = type_kernels(TensorType::kQ4_K)->from_float;
  auto* a = reinterpret_cast<ActK4*>(out);
  for (int64_t b = 0; b < n / 256; ++b) {
    quant::BlockQ8_K blk;
    q8k(x + 256 * b, &blk, 256);
    a[b].d = blk.d;
    for (int j = 0; j < 8; ++j)
      a[b].bsum32[j] = static_cast<int16_t>(blk.bsums[2 * j] + blk.bsums[2 * j + 1]);
    std::memcpy(a[b].qs, blk.qs, 256);
  }
}

void act_k6(const float* x, uint8_t* out, int64_t n) {
  const FromFloatFn q8k = type_kernels(TensorType::kQ6_K)->from_float;
  auto* a = reinterpret_cast<ActK6*>(out);
  for (int64_t b = 0; b < n / 256; ++b) {
    quant::BlockQ8_K blk;
    q8k(x + 256 * b, &blk, 256);
    a[b].d = blk.d;
    for (int j = 0; j < 16; ++j) a[b].init[j] = -32 * blk.bsums[j];
    std::memcpy(a[b].qs, blk.qs, 256);
  }
}

size_t act_bytes_b32(int64_t n) {
  return static_cast<size_t>(n / 32) * sizeof(ActB32);
}
size_t act_bytes_k4(int64_t n) {
  return static_cast<size_t>(n / 256) * sizeof(ActK4);
}
size_t act_bytes_k6(int64_t n) {
  return static_cast<size_t>(n / 256) * sizeof(ActK6);
}

// ---- Helpers.

SOV_KT inline __m512i bcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}
SOV_KT inline __m512i load512(const uint8_t* p) {
  return _mm512_loadu_si512(p);
}
SOV_KT inline __m512 load_half16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Software prefetch of the super-block kAhead blocks ahead (the next group follows the last
// block of a group, so this runs across group boundaries; past the end of the weights a
// prefetch is harmless): with several tokens per pass the kernel spends long enough on each
// block that the hardware prefetchers alone leave DRAM latency exposed. From 3 tokens the
// block's lines are requested in kParts slices spread over its computation (slice P during
// step P): a burst of a whole block's lines fills the core's miss buffers and stalls the
// prefetch instruction itself (17% of the 4-token Q4_K kernel's time). For 1-2 tokens, which
// wait on memory anyway, the burst at step 0 keeps more lines in flight and is faster.
template <int T, size_t kBytes, int kParts, int P>
SOV_KT inline void prefetch_part(const uint8_t* p) {
  constexpr size_t kLines = (kBytes + 63) / 64;
  constexpr size_t kBegin = T <= 2 ? 0 : kLines * P / kParts;
  constexpr size_t kEnd = T <= 2 ? (P == 0 ? kLines : 0) : kLines * (P + 1) / kParts;
  for (size_t line = kBegin; line < kEnd; ++line)
    _mm_prefetch(reinterpret_cast<const char*>(p + 64 * line), _MM_HINT_T1);
}
constexpr int kAhead = 4;

template <typename Act>
inline const Act* act_at(const uint8_t* act, size_t stride, int t) {
  return reinterpret_cast<const Act*>(act + static_cast<size_t>(t) * stride);
}

// ---- Micro-kernels: one group of 16 rows, T tokens, all blocks of the row.
// y[t * ldy + r] = row r . token t.

template <int T, bool kQ4>
SOV_KT void mk_b32(const uint8_t* w, int64_t nb, const uint8_t* act, size_t stride, float* y, int64_t ldy) {
  constexpr size_t kGb = kQ4 ? kGroupBlockQ4_0 : kGroupBlockQ8_0;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = w + b * kGb;
    const __m512 dw = load_half16(blk);
    __m512i q[8];
    if constexpr (kQ4) {
      for (int p = 0; p < 4; ++p) {
        const __m512i l = load512(blk + 32 + 64 * p);
        q[p] = _mm512_and_si512(l, m4);
        q[p + 4] = _mm512_and_si512(_mm512_srli_epi16(l, 4), m4);
      }
    } else {
      for (int g = 0; g < 8; ++g) q[g] = load512(blk + 32 + 64 * g);
    }
    for (int t = 0; t < T; ++t) {
      const ActB32* a = act_at<ActB32>(act, stride, t) + b;
      __m512i s0 = _mm512_set1_epi32(a->init);
      if constexpr (T <= 2) {  // two chains hide vpdpbusd latency when few tokens share a block
        __m512i s1 = _mm512_setzero_si512();
        for (int g = 0; g < 8; g += 2) {
          s0 = _mm512_dpbusd_epi32(s0, q[g], bcast4(a->qs + 4 * g));
          s1 = _mm512_dpbusd_epi32(s1, q[g + 1], bcast4(a->qs + 4 * g + 4));
        }
        s0 = _mm512_add_epi32(s0, s1);
      } else {
        for (int g = 0; g < 8; ++g) s0 = _mm512_dpbusd_epi32(s0, q[g], bcast4(a->qs + 4 * g));
      }
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0), _mm512_mul_ps(dw, _mm512_set1_ps(a->d)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// Sub-block J's 6-bit scale (kMin false) or min (true) of the 16 rows, from the three
// interleaved 4-byte words of Q4_K's packed scales.
template <bool kMin, int J>
SOV_KT inline __m512i k4_scale(__m512i s0, __m512i s1, __m512i s2) {
  const __m512i lo = kMin ? s1 : s0;
  if constexpr (J < 4) {
    return _mm512_and_si512(_mm512_srli_epi32(lo, 8 * J), _mm512_set1_epi32(63));
  } else {
    constexpr int k = J - 4;
    const __m512i low4 =
        _mm512_and_si512(_mm512_srli_epi32(s2, 8 * k + (kMin ? 4 : 0)), _mm512_set1_epi32(15));
    const __m512i high2 = _mm512_and_si512(_mm512_srli_epi32(lo, 8 * k + 6), _mm512_set1_epi32(3));
    return _mm512_or_si512(low4, _mm512_slli_epi32(high2, 4));
  }
}

template <int T>
SOV_KT void mk_q4_k(const uint8_t* w, int64_t nsb, const uint8_t* act, size_t stride, float* y, int64_t ldy) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* blk = w + sb * kGroupBlockQ4_K;
    const __m512i s0 = load512(blk + 64), s1 = load512(blk + 128), s2 = load512(blk + 192);
    const uint8_t* qs = blk + 256;
    __m512i isum[T];
    for (auto& v : isum) v = _mm512_setzero_si512();
    static_for(std::make_integer_sequence<int, 8>(), [&](auto J) SOV_TARGET_AVX512 {
      constexpr int j = J;
      prefetch_part<T, kGroupBlockQ4_K, 8, j>(blk + kAhead * kGroupBlockQ4_K);
      const __m512i sc = k4_scale<false, j>(s0, s1, s2);
      const uint8_t* chunk = qs + (j / 2) * 8 * 64;
      __m512i q[8];
      for (int p = 0; p < 8; ++p) {
        const __m512i l = load512(chunk + 64 * p);
        q[p] = (j & 1) ? _mm512_and_si512(_mm512_srli_epi16(l, 4), m4) : _mm512_and_si512(l, m4);
      }
      for (int t = 0; t < T; ++t) {
        const int8_t* aq = act_at<ActK4>(act, stride, t)[sb].qs + 32 * j;
        __m512i dot;
        if constexpr (T <= 2) {  // two chains hide vpdpbusd latency when few tokens share a block
          __m512i p0 = _mm512_setzero_si512(), p1 = _mm512_setzero_si512();
          for (int p = 0; p < 8; p += 2) {
            p0 = _mm512_dpbusd_epi32(p0, q[p], bcast4(aq + 4 * p));
            p1 = _mm512_dpbusd_epi32(p1, q[p + 1], bcast4(aq + 4 * p + 4));
          }
          dot = _mm512_add_epi32(p0, p1);
        } else {  // the tokens' chains are independent: one each needs fewer zeroed registers
          dot = _mm512_setzero_si512();
          for (int p = 0; p < 8; ++p) dot = _mm512_dpbusd_epi32(dot, q[p], bcast4(aq + 4 * p));
        }
        isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, sc));
      }
    });
    // Mins: pairs (m[2k], m[2k+1]) as int16 against the pairs of 32-value sums.
    const __m512i mp[4] = {
        _mm512_or_si512(k4_scale<true, 0>(s0, s1, s2), _mm512_slli_epi32(k4_scale<true, 1>(s0, s1, s2), 16)),
        _mm512_or_si512(k4_scale<true, 2>(s0, s1, s2), _mm512_slli_epi32(k4_scale<true, 3>(s0, s1, s2), 16)),
        _mm512_or_si512(k4_scale<true, 4>(s0, s1, s2), _mm512_slli_epi32(k4_scale<true, 5>(s0, s1, s2), 16)),
        _mm512_or_si512(k4_scale<true, 6>(s0, s1, s2), _mm512_slli_epi32(k4_scale<true, 7>(s0, s1, s2), 16)),
    };
    const __m512 dw = load_half16(blk), dm = load_half16(blk + 32);
    for (int t = 0; t < T; ++t) {
      const ActK4* a = act_at<ActK4>(act, stride, t) + sb;
      __m512i mins = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) mins = _mm512_dpwssd_epi32(mins, mp[k], bcast4(&a->bsum32[2 * k]));
      const __m512 da = _mm512_set1_ps(a->d);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, da), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dm, da), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// Q6_K: the 64 groups of 4 columns of a super-block in quarters K = 0..3 (groups 16K ..
// 16K + 15, sub-blocks 4K .. 4K + 3): the low 4 bits sit in the low (K < 2) or high nibble
// of the low-bit chunks 16 (K % 2) + j, the high 2 bits at bits 2K of high-bit chunk j.
template <int T>
SOV_KT void mk_q6_k(const uint8_t* w, int64_t nsb, const uint8_t* act, size_t stride, float* y, int64_t ldy) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* blk = w + sb * kGroupBlockQ6_K;
    const uint8_t* scales = blk + 32;
    const uint8_t* low = blk + 32 + 256;
    const uint8_t* high = low + 2048;
    __m512i isum[T];
    for (auto& v : isum) v = _mm512_setzero_si512();
    static_for(std::make_integer_sequence<int, 4>(), [&](auto KK) SOV_TARGET_AVX512 {
      constexpr int K = KK;
      prefetch_part<T, kGroupBlockQ6_K, 4, K>(blk + kAhead * kGroupBlockQ6_K);
      for (int s4 = 0; s4 < 4; ++s4) {
        const int s = 4 * K + s4;
        const __m512i sc =
            _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + 16 * s)));
        __m512i q[4];
        for (int i = 0; i < 4; ++i) {
          const int j = 4 * s4 + i;
          const __m512i l = load512(low + 64 * (16 * (K % 2) + j));
          const __m512i lo4 = K < 2 ? _mm512_and_si512(l, m4) : _mm512_and_si512(_mm512_srli_epi16(l, 4), m4);
          const __m512i h = load512(high + 64 * j);
          __m512i hi2;
          if constexpr (K < 2) {
            hi2 = _mm512_and_si512(_mm512_slli_epi16(h, 4 - 2 * K), m30);
          } else {
            hi2 = _mm512_and_si512(_mm512_srli_epi16(h, 2 * K - 4), m30);
          }
          q[i] = _mm512_or_si512(lo4, hi2);
        }
        for (int t = 0; t < T; ++t) {
          const ActK6* a = act_at<ActK6>(act, stride, t) + sb;
          const int8_t* aq = a->qs + 16 * s;
          __m512i dot = _mm512_set1_epi32(a->init[s]);
          if constexpr (T <= 2) {
            __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[1], bcast4(aq + 4));
            dot = _mm512_dpbusd_epi32(dot, q[0], bcast4(aq));
            dot = _mm512_dpbusd_epi32(dot, q[2], bcast4(aq + 8));
            p1 = _mm512_dpbusd_epi32(p1, q[3], bcast4(aq + 12));
            dot = _mm512_add_epi32(dot, p1);
          } else {
            for (int i = 0; i < 4; ++i) dot = _mm512_dpbusd_epi32(dot, q[i], bcast4(aq + 4 * i));
          }
          isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, sc));
        }
      }
    });
    const __m512 dw = load_half16(blk);
    for (int t = 0; t < T; ++t) {
      const ActK6* a = act_at<ActK6>(act, stride, t) + sb;
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a->d)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// ---- Drivers: cache blocking over groups and token tiles.

using MicroFn = void (*)(const uint8_t* w, int64_t n_blocks, const uint8_t* act, size_t stride, float* y,
                         int64_t ldy);

template <template <int> class K, size_t... I>
constexpr std::array<MicroFn, sizeof...(I)> micro_table(std::index_sequence<I...>) {
  return {&K<static_cast<int>(I) + 1>::run...};
}

template <int T>
struct Q8_0K {
  static void run(const uint8_t* w, int64_t nb, const uint8_t* a, size_t s, float* y, int64_t l) {
    mk_b32<T, false>(w, nb, a, s, y, l);
  }
};
template <int T>
struct Q4_0K {
  static void run(const uint8_t* w, int64_t nb, const uint8_t* a, size_t s, float* y, int64_t l) {
    mk_b32<T, true>(w, nb, a, s, y, l);
  }
};
template <int T>
struct Q4_KK {
  static void run(const uint8_t* w, int64_t nb, const uint8_t* a, size_t s, float* y, int64_t l) {
    mk_q4_k<T>(w, nb, a, s, y, l);
  }
};
template <int T>
struct Q6_KK {
  static void run(const uint8_t* w, int64_t nb, const uint8_t* a, size_t s, float* y, int64_t l) {
    mk_q6_k<T>(w, nb, a, s, y, l);
  }
};

// Packed rows held in L2 while the token tiles pass over them.
constexpr size_t kPanelBytes = 384 * 1024;

template <template <int> class K, int kMaxT>
void gemm(const uint8_t* w, int64_t n_blocks, size_t group_block_bytes, int64_t g0, int64_t g1,
          const uint8_t* act, size_t stride, int64_t n_tok, float* y, int64_t ldy) {
  static constexpr auto table = micro_table<K>(std::make_index_sequence<kMaxT>());
  const size_t group_bytes = static_cast<size_t>(n_blocks) * group_block_bytes;
  const int64_t panel = std::max<int64_t>(1, static_cast<int64_t>(kPanelBytes / group_bytes));
  for (int64_t p0 = g0; p0 < g1; p0 += panel) {
    const int64_t p1 = std::min(g1, p0 + panel);
    for (int64_t t0 = 0; t0 < n_tok; t0 += kMaxT) {
      const int64_t nt = std::min<int64_t>(kMaxT, n_tok - t0);
      const MicroFn mk = table[nt - 1];
      for (int64_t g = p0; g < p1; ++g) {
        mk(w + g * group_bytes, n_blocks, act + t0 * stride, stride, y + t0 * ldy + g * kPackRows, ldy);
      }
    }
  }
}

void gemm_q8_0(const uint8_t* w, int64_t n_in, int64_t g0, int64_t g1, const uint8_t* act, size_t stride,
               int64_t n_tok, float* y, int64_t ldy) {
  gemm<Q8_0K, 8>(w, n_in / 32, kGroupBlockQ8_0, g0, g1, act, stride, n_tok, y, ldy);
}
void gemm_q4_0(const uint8_t* w, int64_t n_in, int64_t g0, int64_t g1, const uint8_t* act, size_t stride,
               int64_t n_tok, float* y, int64_t ldy) {
  gemm<Q4_0K, 8>(w, n_in / 32, kGroupBlockQ4_0, g0, g1, act, stride, n_tok, y, ldy);
}
void gemm_q4_k(const uint8_t* w, int64_t n_in, int64_t g0, int64_t g1, const uint8_t* act, size_t stride,
               int64_t n_tok, float* y, int64_t ldy) {
  gemm<Q4_KK, 8>(w, n_in / 256, kGroupBlockQ4_K, g0, g1, act, stride, n_tok, y, ldy);
}
void gemm_q6_k(const uint8_t* w, int64_t n_in, int64_t g0, int64_t g1, const uint8_t* act, size_t stride,
               int64_t n_tok, float* y, int64_t ldy) {
  gemm<Q6_KK, 8>(w, n_in / 256, kGroupBlockQ6_K, g0, g1, act, stride, n_tok, y, ldy);
}

#undef SOV_KT

}  // namespace
}  // namespace sov::kernels::x86
#pragma GCC pop_options

namespace sov::kernels::x86 {
namespace {

constexpr PackedKernel kQ8_0{act_bytes_b32, act_b32<128>, gemm_q8_0};
constexpr PackedKernel kQ4_0{act_bytes_b32, act_b32<8>, gemm_q4_0};
constexpr PackedKernel kQ4_K{act_bytes_k4, act_k4, gemm_q4_k};
constexpr PackedKernel kQ6_K{act_bytes_k6, act_k6, gemm_q6_k};

}  // namespace

const PackedKernel* avx512_packed(gguf::TensorType t) {
  switch (t) {
    case TensorType::kQ8_0: return &kQ8_0;
    case TensorType::kQ4_0: return &kQ4_0;
    case TensorType::kQ4_K: return &kQ4_K;
    case TensorType::kQ6_K: return &kQ6_K;
    default: return nullptr;
  }
}

}  // namespace sov::kernels::x86
