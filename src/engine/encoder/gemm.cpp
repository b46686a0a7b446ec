#include "engine/encoder/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/isa.h"
#include "quant/fp16.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define SOV_GEMM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SOV_GEMM_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma,f16c")))
#endif

namespace sov::engine {
namespace {

using gguf::TensorType;

// Output panels packed together: 8 panels of kGemmKc inputs is 256 KB (AVX-512) of packed
// weights, which stays in L2 while every token block sweeps it.
constexpr int64_t kPanelsPerChunk = 8;
// Tokens per job: each packed panel chunk is reused by this many tokens.
constexpr int64_t kTokenBlock = 512;

enum class Path { kNone, kAvx2, kAvx512 };

Path active_path() {
#if defined(__x86_64__)
  const kernels::Isa isa = kernels::active_isa();
  if (isa >= kernels::Isa::kAvx512) return Path::kAvx512;
  if (isa >= kernels::Isa::kAvx2) return Path::kAvx2;
#endif
  return Path::kNone;
}

#if defined(__x86_64__)
// 8 values of a weight row from element k, widened to float.
SOV_GEMM_AVX2 inline __m256 load8(TensorType type, const uint8_t* row, int64_t k) {
  switch (type) {
    case TensorType::kF16:
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    case TensorType::kBF16: {
      const __m256i wide =
          _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
    default: return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  }
}

SOV_GEMM_AVX2 inline float load1(TensorType type, const uint8_t* row, int64_t k) {
  uint16_t h;
  switch (type) {
    case TensorType::kF16: std::memcpy(&h, row + 2 * k, 2); return quant::fp16_to_fp32(h);
    case TensorType::kBF16: std::memcpy(&h, row + 2 * k, 2); return quant::bf16_to_fp32(h);
    default: {
      float f;
      std::memcpy(&f, row + 4 * k, 4);
      return f;
    }
  }
}

// r[j] = row j (8 values) -> r[i] = column i (8 values), in registers.
SOV_GEMM_AVX2 inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// dst[(p * kc + k) * nr + j] = W[o0 + p * nr + j][k0 + k], widened to float; columns past
// n_out are zero. Rows are read 8 at a time and transposed in registers.
SOV_GEMM_AVX2 void pack(const kernels::WeightView& w, int64_t o0, int64_t n_panels, int64_t k0, int64_t kc,
                        int nr, float* dst) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t p = 0; p < n_panels; ++p) {
    float* panel = dst + p * kc * nr;
    for (int j0 = 0; j0 < nr; j0 += 8) {
      const uint8_t* rows[8];
      for (int j = 0; j < 8; ++j) {
        const int64_t o = o0 + p * nr + j0 + j;
        rows[j] = o < w.n_out ? base + static_cast<size_t>(o) * w.row_bytes : nullptr;
      }
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j)
          r[j] = rows[j] != nullptr ? load8(w.type, rows[j], k0 + k) : _mm256_setzero_ps();
        transpose8(r);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(panel + (k + i) * nr + j0, r[i]);
      }
      for (; k < kc; ++k) {
        for (int j = 0; j < 8; ++j)
          panel[k * nr + j0 + j] = rows[j] != nullptr ? load1(w.type, rows[j], k0 + k) : 0.0f;
      }
    }
  }
}

// C[M][32] (+)= X[M][kc] · P[kc][32], columns >= n_valid not stored.
template <int M>
SOV_GEMM_AVX512 void micro_avx512(const float* x, int64_t ldx, const float* wp, int64_t kc, float* y,
                                  int64_t ldy, int n_valid, bool accumulate) {
  __m512 c0[M], c1[M];
#pragma GCC unroll 8
  for (int m = 0; m < M; ++m) c0[m] = c1[m] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w0 = _mm512_loadu_ps(wp + k * 32);
    const __m512 w1 = _mm512_loadu_ps(wp + k * 32 + 16);
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      const __m512 b = _mm512_set1_ps(x[m * ldx + k]);
      c0[m] = _mm512_fmadd_ps(b, w0, c0[m]);
      c1[m] = _mm512_fmadd_ps(b, w1, c1[m]);
    }
  }
  const __mmask16 m0 = n_valid >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n_valid) - 1);
  const __mmask16 m1 = n_valid >= 32   ? 0xFFFF
                       : n_valid <= 16 ? 0
                                       : static_cast<__mmask16>((1u << (n_valid - 16)) - 1);
#pragma GCC unroll 8
  for (int m = 0; m < M; ++m) {
    float* out = y + m * ldy;
    if (accumulate) {
      c0[m] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), c0[m]);
      c1[m] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out + 16), c1[m]);
    }
    _mm512_mask_storeu_ps(out, m0, c0[m]);
    _mm512_mask_storeu_ps(out + 16, m1, c1[m]);
  }
}

// C[M][16] (+)= X[M][kc] · P[kc][16], columns >= n_valid not stored.
template <int M>
SOV_GEMM_AVX2 void micro_avx2(const float* x, int64_t ldx, const float* wp, int64_t kc, float* y, int64_t ldy,
                              int n_valid, bool accumulate) {
  __m256 c0[M], c1[M];
#pragma GCC unroll 8
  for (int m = 0; m < M; ++m) c0[m] = c1[m] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 w0 = _mm256_loadu_ps(wp + k * 16);
    const __m256 w1 = _mm256_loadu_ps(wp + k * 16 + 8);
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) {
      const __m256 b = _mm256_broadcast_ss(x + m * ldx + k);
      c0[m] = _mm256_fmadd_ps(b, w0, c0[m]);
      c1[m] = _mm256_fmadd_ps(b, w1, c1[m]);
    }
  }
  for (int m = 0; m < M; ++m) {
    float* out = y + m * ldy;
    if (n_valid == 16) {
      if (accumulate) {
        c0[m] = _mm256_add_ps(_mm256_loadu_ps(out), c0[m]);
        c1[m] = _mm256_add_ps(_mm256_loadu_ps(out + 8), c1[m]);
      }
      _mm256_storeu_ps(out, c0[m]);
      _mm256_storeu_ps(out + 8, c1[m]);
    } else {
      alignas(32) float tmp[16];
      _mm256_store_ps(tmp, c0[m]);
      _mm256_store_ps(tmp + 8, c1[m]);
      for (int j = 0; j < n_valid; ++j) out[j] = accumulate ? out[j] + tmp[j] : tmp[j];
    }
  }
}

using MicroFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, int, bool);

constexpr MicroFn kAvx512Kernels[9] = {nullptr,         micro_avx512<1>, micro_avx512<2>,
                                       micro_avx512<3>, micro_avx512<4>, micro_avx512<5>,
                                       micro_avx512<6>, micro_avx512<7>, micro_avx512<8>};
constexpr MicroFn kAvx2Kernels[7] = {nullptr,       micro_avx2<1>, micro_avx2<2>, micro_avx2<3>,
                                     micro_avx2<4>, micro_avx2<5>, micro_avx2<6>};
#endif

}  // namespace

bool gemm_supported(const kernels::WeightView& w) {
  if (w.type != TensorType::kF32 && w.type != TensorType::kF16 && w.type != TensorType::kBF16) return false;
  return active_path() != Path::kNone;
}

void gemm(const kernels::WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool* pool,
          int64_t ldx, int64_t ldy) {
#if defined(__x86_64__)
  if (n_tokens <= 0) return;
  if (ldx == 0) ldx = w.n_in;
  if (ldy == 0) ldy = w.n_out;
  const bool wide = active_path() == Path::kAvx512;
  const int nr = wide ? 32 : 16;
  const int mr = wide ? 8 : 6;
  const MicroFn* kernels = wide ? kAvx512Kernels : kAvx2Kernels;
  const int64_t n_panels = (w.n_out + nr - 1) / nr;

  // Jobs: (block of tokens) x (chunk of output panels). A job packs its panels one input
  // block at a time and runs every token of its block over them, so the packed panels are
  // reused from L2 by kTokenBlock tokens and a token block's rows from L1 by every panel.
  // Few token blocks (short batches) get smaller panel chunks to keep every thread busy.
  const int threads = pool != nullptr ? pool->size() : 1;
  const int64_t n_tb = (n_tokens + kTokenBlock - 1) / kTokenBlock;
  const int64_t want_jobs = 4 * static_cast<int64_t>(threads);
  int64_t per_chunk = kPanelsPerChunk;
  if (n_tb * ((n_panels + per_chunk - 1) / per_chunk) < want_jobs) {
    per_chunk = std::clamp<int64_t>((n_panels * n_tb + want_jobs - 1) / want_jobs, 1, kPanelsPerChunk);
  }
  const int64_t n_chunks = (n_panels + per_chunk - 1) / per_chunk;

  auto work = [&](size_t first, size_t last, int) {
    thread_local std::vector<float> packed;
    const size_t need = static_cast<size_t>(kPanelsPerChunk * kGemmKc * nr);
    if (packed.size() < need) packed.resize(need);
    for (size_t job = first; job < last; ++job) {
      const int64_t tb = static_cast<int64_t>(job) / n_chunks, chunk = static_cast<int64_t>(job) % n_chunks;
      const int64_t t_begin = tb * kTokenBlock, t_end = std::min(n_tokens, t_begin + kTokenBlock);
      const int64_t p0 = chunk * per_chunk, np = std::min(per_chunk, n_panels - p0);
      for (int64_t k0 = 0; k0 < w.n_in; k0 += kGemmKc) {
        const int64_t kc = std::min<int64_t>(kGemmKc, w.n_in - k0);
        pack(w, p0 * nr, np, k0, kc, nr, packed.data());
        for (int64_t t0 = t_begin; t0 < t_end; t0 += mr) {
          const int m = static_cast<int>(std::min<int64_t>(mr, t_end - t0));
          for (int64_t q = 0; q < np; ++q) {
            const int64_t o = (p0 + q) * nr;
            const int n_valid = static_cast<int>(std::min<int64_t>(nr, w.n_out - o));
            kernels[m](x + t0 * ldx + k0, ldx, packed.data() + q * kc * nr, kc, y + t0 * ldy + o, ldy,
                       n_valid, k0 > 0);
          }
        }
      }
    }
  };
  const size_t n_jobs = static_cast<size_t>(n_tb * n_chunks);
  if (pool != nullptr && threads > 1 && n_jobs > 1) {
    pool->parallel_for(n_jobs, work);
  } else {
    work(0, n_jobs, 0);
  }
#else
  (void)w, (void)x, (void)n_tokens, (void)y, (void)pool, (void)ldx, (void)ldy;
#endif
}

}  // namespace sov::engine
