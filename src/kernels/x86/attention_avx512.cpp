// AVX-512 attention for one block of up to 16 lanes (see kernels/attention.h). Lanes are
// vector lanes: the queries are transposed to qt[d][lane] once, then for each tile of 16
// keys (copied to a contiguous tile so every address is a constant offset) the scores of
// key j are one vector s_j = sum_d qt[d] * k_j[d] (FMA with a broadcast key element), and
// the output, kept transposed as ot[d][lane], gets ot[d] += p_j * v_j[d] the same way.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/attention.h"
#include "kernels/x86/vec_math_avx512.h"
#include "kernels/x86/x86_kernels.h"

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace sov::kernels::x86 {
namespace {

#define SOV_KT SOV_TARGET_AVX512

constexpr int kL = kAttnLanes;

template <int HD>
SOV_KT void attend(const AttentionBlock& b, const float* k, const float* v, const AttentionParams& p,
                   float* scratch) {
  float* qt = scratch;       // [HD][16]
  float* ot = qt + HD * kL;  // [HD][16]
  float* kt = ot + HD * kL;  // [16][HD]
  float* vt = kt + HD * kL;  // [16][HD]
  int32_t first[kL], last[kL];
  int32_t j_begin = INT32_MAX, j_end = -1;
  for (int lane = 0; lane < kL; ++lane) {
    if (lane < b.n_lanes) {
      first[lane] = b.first[lane];
      last[lane] = b.last[lane];
      j_begin = std::min(j_begin, first[lane]);
      j_end = std::max(j_end, last[lane]);
    } else {
      first[lane] = INT32_MAX;  // never valid
      last[lane] = -1;
    }
  }
  for (int d = 0; d < HD; ++d) {
    for (int lane = 0; lane < kL; ++lane)
      qt[d * kL + lane] = lane < b.n_lanes ? b.q[lane][d] * p.scale : 0.0f;
  }
  std::memset(ot, 0, sizeof(float) * HD * kL);
  const __m512i vfirst = _mm512_loadu_si512(first), vlast = _mm512_loadu_si512(last);
  __m512 m = _mm512_set1_ps(-1e30f), l = _mm512_setzero_ps();

  for (int32_t j0 = j_begin; j0 <= j_end; j0 += kL) {
    // Tiles of 16 keys and values; past the last key, repeat it (it is masked out).
    for (int j = 0; j < kL; ++j) {
      const size_t row = static_cast<size_t>(std::min(j0 + j, j_end)) * p.kv_stride;
      std::memcpy(kt + j * HD, k + row, sizeof(float) * HD);
      std::memcpy(vt + j * HD, v + row, sizeof(float) * HD);
    }
    __m512 s[kL];
    for (auto& x : s) x = _mm512_setzero_ps();
    for (int d = 0; d < HD; ++d) {
      const __m512 qd = _mm512_loadu_ps(qt + d * kL);
      for (int j = 0; j < kL; ++j) s[j] = _mm512_fmadd_ps(qd, _mm512_set1_ps(kt[j * HD + d]), s[j]);
    }
    __mmask16 valid[kL];
    __m512 mb = _mm512_set1_ps(-1e30f);
    for (int j = 0; j < kL; ++j) {
      if (p.softcap > 0.0f) {
        const __m512 cap = _mm512_set1_ps(p.softcap);
        s[j] = _mm512_mul_ps(cap, tanh512(_mm512_div_ps(s[j], cap)));
      }
      const __m512i pos = _mm512_set1_epi32(j0 + j);
      valid[j] = _mm512_cmple_epi32_mask(vfirst, pos) & _mm512_cmple_epi32_mask(pos, vlast);
      mb = _mm512_mask_max_ps(mb, valid[j], mb, s[j]);
    }
    const __m512 m_new = _mm512_max_ps(m, mb);
    const __m512 c = exp512(_mm512_sub_ps(m, m_new));
    m = m_new;
    l = _mm512_mul_ps(l, c);
    if (_mm512_cmpneq_ps_mask(c, _mm512_set1_ps(1.0f)) != 0) {
      for (int d = 0; d < HD; ++d)
        _mm512_storeu_ps(ot + d * kL, _mm512_mul_ps(_mm512_loadu_ps(ot + d * kL), c));
    }
    for (int j = 0; j < kL; ++j) {
      s[j] = _mm512_maskz_mov_ps(valid[j], exp512(_mm512_sub_ps(s[j], m)));
      l = _mm512_add_ps(l, s[j]);
    }
    for (int d0 = 0; d0 < HD; d0 += 8) {
      __m512 acc[8];
      for (int i = 0; i < 8; ++i) acc[i] = _mm512_loadu_ps(ot + (d0 + i) * kL);
      for (int j = 0; j < kL; ++j) {
        for (int i = 0; i < 8; ++i)
          acc[i] = _mm512_fmadd_ps(s[j], _mm512_set1_ps(vt[j * HD + d0 + i]), acc[i]);
      }
      for (int i = 0; i < 8; ++i) _mm512_storeu_ps(ot + (d0 + i) * kL, acc[i]);
    }
  }
  alignas(64) float inv[kL];
  const __m512 nonzero = _mm512_mask_div_ps(
      _mm512_setzero_ps(), _mm512_cmp_ps_mask(l, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_set1_ps(1.0f), l);
  _mm512_store_ps(inv, nonzero);
  for (int lane = 0; lane < b.n_lanes; ++lane) {
    float* out = b.out[lane];
    for (int d = 0; d < HD; ++d) out[d] = ot[d * kL + lane] * inv[lane];
  }
}

#undef SOV_KT

}  // namespace

bool avx512_attention(const AttentionBlock& block, const float* k, const float* v, const AttentionParams& p,
                      float* scratch) {
  switch (p.head_dim) {
    case 32: attend<32>(block, k, v, p, scratch); return true;
    case 64: attend<64>(block, k, v, p, scratch); return true;
    case 128: attend<128>(block, k, v, p, scratch); return true;
    case 256: attend<256>(block, k, v, p, scratch); return true;
    default: return false;
  }
}

}  // namespace sov::kernels::x86
