// AVX-512 matrix products for float weight formats (F32, F16, BF16) in their original
// row-major layout, so these formats need no repacked copy. Each micro-kernel computes an
// RM x RN tile of dot products (RM weight rows, RN tokens) with one 16-float accumulator per
// pair, 16 columns at a time: every loaded weight vector serves RN tokens and every
// activation vector RM rows; the 16 lanes are summed once per pair at the end. Tiles walk a
// block of rows (kept in L2) for each group of RN tokens.
//
// Activations are floats (already rounded to fp16 / bf16 precision for those formats, see
// type_kernels.h). n_in must be a multiple of 16 here; the caller falls back otherwise.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/x86/simd_avx2.h"
#include "kernels/x86/x86_kernels.h"

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace sov::kernels::x86 {
namespace {

#define SOV_KT SOV_TARGET_AVX512

struct Bf16 {
  uint16_t bits;
};

SOV_KT inline __m512 load16(const float* p) {
  return _mm512_loadu_ps(p);
}
SOV_KT inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
SOV_KT inline __m512 load16(const Bf16* p) {
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

// y[t * ldy + r] for r < RM, t < RN: rows w + r * w_stride (elements), tokens a + t * n.
template <typename W, int RM, int RN>
SOV_KT void tile(const W* w, size_t w_stride, const float* a, int64_t n, float* y, int64_t ldy) {
  __m512 acc[RM][RN];
  for (auto& row : acc) {
    for (auto& v : row) v = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < n; k += 16) {
    __m512 wv[RM];
    for (int i = 0; i < RM; ++i) wv[i] = load16(w + i * w_stride + k);
    for (int j = 0; j < RN; ++j) {
      const __m512 av = _mm512_loadu_ps(a + j * n + k);
      for (int i = 0; i < RM; ++i) acc[i][j] = _mm512_fmadd_ps(wv[i], av, acc[i][j]);
    }
  }
  for (int i = 0; i < RM; ++i) {
    for (int j = 0; j < RN; ++j) y[j * ldy + i] = _mm512_reduce_add_ps(acc[i][j]);
  }
}

// One row, one token, four accumulators: the rows of a matrix-vector product are then read
// one after another, a single sequential stream per thread that the hardware prefetcher
// follows across pages (interleaving rows would make every 4 KiB row a new short stream).
template <typename W>
SOV_KT void gemv_rows(const W* w, size_t w_stride, const float* a, int64_t n, int64_t rows, float* y) {
  for (int64_t r = 0; r < rows; ++r, w += w_stride) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t k = 0;
    for (; k + 64 <= n; k += 64) {
      for (int u = 0; u < 4; ++u)
        acc[u] = _mm512_fmadd_ps(load16(w + k + 16 * u), _mm512_loadu_ps(a + k + 16 * u), acc[u]);
    }
    for (; k < n; k += 16) acc[0] = _mm512_fmadd_ps(load16(w + k), _mm512_loadu_ps(a + k), acc[0]);
    y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
  }
}

using TileFn = void (*)(const void* w, size_t w_stride, const float* a, int64_t n, float* y, int64_t ldy);

template <typename W, int RM, int RN>
void tile_entry(const void* w, size_t w_stride, const float* a, int64_t n, float* y, int64_t ldy) {
  tile<W, RM, RN>(static_cast<const W*>(w), w_stride, a, n, y, ldy);
}

// Tiles of up to 4 rows x 5 tokens (29 of the 32 vector registers).
template <typename W>
struct Tiles {
  static constexpr int kRows = 4, kTokens = 5;
  // [rows - 1][tokens - 1]
  std::array<std::array<TileFn, kTokens>, kRows> fns;
  template <int RM, int... RN>
  static constexpr std::array<TileFn, kTokens> row(std::integer_sequence<int, RN...>) {
    return {&tile_entry<W, RM, RN + 1>...};
  }
  constexpr Tiles()
      : fns{row<1>(std::make_integer_sequence<int, kTokens>()),
            row<2>(std::make_integer_sequence<int, kTokens>()),
            row<3>(std::make_integer_sequence<int, kTokens>()),
            row<4>(std::make_integer_sequence<int, kTokens>())} {}
};

// Rows kept in L2 while the token groups pass over them.
constexpr size_t kBlockBytes = 256 * 1024;

template <typename W>
void gemm(const void* wv, size_t row_bytes, int64_t n_in, int64_t r0, int64_t r1, const float* act,
          int64_t n_tok, float* y, int64_t ldy) {
  static constexpr Tiles<W> tiles;
  const auto* w = static_cast<const uint8_t*>(wv);
  const size_t w_stride = row_bytes / sizeof(W);
  if (n_tok == 1) {
    gemv_rows(reinterpret_cast<const W*>(w + r0 * row_bytes), w_stride, act, n_in, r1 - r0, y + r0);
    return;
  }
  const int64_t block =
      std::max<int64_t>(Tiles<W>::kRows, static_cast<int64_t>(kBlockBytes / row_bytes) / 4 * 4);
  for (int64_t b0 = r0; b0 < r1; b0 += block) {
    const int64_t b1 = std::min(r1, b0 + block);
    for (int64_t t = 0; t < n_tok; t += Tiles<W>::kTokens) {
      const int rn = static_cast<int>(std::min<int64_t>(Tiles<W>::kTokens, n_tok - t));
      for (int64_t r = b0; r < b1; r += Tiles<W>::kRows) {
        const int rm = static_cast<int>(std::min<int64_t>(Tiles<W>::kRows, b1 - r));
        tiles.fns[rm - 1][rn - 1](w + r * row_bytes, w_stride, act + t * n_in, n_in, y + t * ldy + r, ldy);
      }
    }
  }
}

#define SOV_KT_BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// As tile(), 32 columns per step: vdpbf16ps adds the two products of each lane's pair.
template <int RM, int RN>
SOV_KT_BF16 void tile_bf16(const uint16_t* w, size_t w_stride, const uint16_t* a, int64_t n, float* y,
                           int64_t ldy) {
  __m512 acc[RM][RN];
  for (auto& row : acc) {
    for (auto& v : row) v = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < n; k += 32) {
    __m512bh wv[RM];
    for (int i = 0; i < RM; ++i) wv[i] = (__m512bh)_mm512_loadu_si512(w + i * w_stride + k);
    for (int j = 0; j < RN; ++j) {
      const __m512bh av = (__m512bh)_mm512_loadu_si512(a + j * n + k);
      for (int i = 0; i < RM; ++i) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], wv[i], av);
    }
  }
  for (int i = 0; i < RM; ++i) {
    for (int j = 0; j < RN; ++j) y[j * ldy + i] = _mm512_reduce_add_ps(acc[i][j]);
  }
}

using TileBf16Fn = void (*)(const uint16_t* w, size_t w_stride, const uint16_t* a, int64_t n, float* y,
                            int64_t ldy);

template <int RM, int... RN>
constexpr std::array<TileBf16Fn, sizeof...(RN)> bf16_row(std::integer_sequence<int, RN...>) {
  return {&tile_bf16<RM, RN + 1>...};
}

#undef SOV_KT_BF16
#undef SOV_KT

}  // namespace

void avx512_bf16_gemm(const void* wv, size_t row_bytes, int64_t n_in, int64_t r0, int64_t r1,
                      const uint16_t* act, int64_t n_tok, float* y, int64_t ldy) {
  constexpr int kRows = 4, kTokens = 5;
  static constexpr std::array<std::array<TileBf16Fn, kTokens>, kRows> fns = {
      bf16_row<1>(std::make_integer_sequence<int, kTokens>()),
      bf16_row<2>(std::make_integer_sequence<int, kTokens>()),
      bf16_row<3>(std::make_integer_sequence<int, kTokens>()),
      bf16_row<4>(std::make_integer_sequence<int, kTokens>())};
  const auto* w = static_cast<const uint8_t*>(wv);
  const size_t w_stride = row_bytes / 2;
  const int64_t r = r0;
  const int64_t block = std::max<int64_t>(kRows, static_cast<int64_t>(kBlockBytes / row_bytes) / 4 * 4);
  for (int64_t b0 = r; b0 < r1; b0 += block) {
    const int64_t b1 = std::min(r1, b0 + block);
    for (int64_t t = 0; t < n_tok; t += kTokens) {
      const int rn = static_cast<int>(std::min<int64_t>(kTokens, n_tok - t));
      for (int64_t q = b0; q < b1; q += kRows) {
        const int rm = static_cast<int>(std::min<int64_t>(kRows, b1 - q));
        fns[rm - 1][rn - 1](reinterpret_cast<const uint16_t*>(w + q * row_bytes), w_stride, act + t * n_in,
                            n_in, y + t * ldy + q, ldy);
      }
    }
  }
}

FloatGemmFn avx512_float_gemm(gguf::TensorType t) {
  switch (t) {
    case gguf::TensorType::kF32: return gemm<float>;
    case gguf::TensorType::kF16: return gemm<uint16_t>;
    case gguf::TensorType::kBF16: return gemm<Bf16>;
    default: return nullptr;
  }
}

}  // namespace sov::kernels::x86
