// AVX-512 attention for one block of up to 16 lanes (see kernels/attention.h).
//
// Few lanes (decode: one token's query heads of one KV head, 1..8 lanes): each lane on its
// own, vectors along the head dimension. The 16 partial dot products of a tile of 16 keys
// are summed horizontally by one transpose-and-add tree into a vector of 16 scores; the
// output accumulates p_j * v_j in registers. Work is proportional to the lanes present.
//
// Many lanes (prompt processing): lanes are vector lanes: the queries are transposed to
// qt[d][lane] once, then for each tile of 16 keys (copied to a contiguous tile so every
// address is a constant offset) the scores of key j are one vector s_j = sum_d qt[d] * k_j[d]
// (FMA with a broadcast key element), and the output, kept transposed as ot[d][lane], gets
// ot[d] += p_j * v_j[d] the same way.
#include <algorithm>
#include <cmath>
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
constexpr int kFewLanes = 8;  // up to this many lanes, each lane alone beats 16-lane vectors

// 16 cache elements (float or IEEE half) as floats.
SOV_KT inline __m512 load_kv(const float* p) {
  return _mm512_loadu_ps(p);
}
SOV_KT inline __m512 load_kv(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

template <int HD, typename T>
SOV_KT void attend_many(const AttentionBlock& b, const T* k, const T* v, const AttentionParams& p,
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
      for (int d = 0; d < HD; d += 16) {
        _mm512_storeu_ps(kt + j * HD + d, load_kv(k + row + d));
        _mm512_storeu_ps(vt + j * HD + d, load_kv(v + row + d));
      }
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

// r[j] = sum of the 16 elements of a[j], for j = 0..15 (a is destroyed).
SOV_KT inline __m512 sum16(__m512* a) {
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: [x0+x2, y0+y2, x1+x3, y1+y3]
    a[i] =
        _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // per 128-bit lane L: the lane-L sums of 4 consecutive inputs
    a[i] = _mm512_add_ps(_mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(a[2 * i], a[2 * i + 1], 0xEE));
  for (int i = 0; i < 2; ++i)
    a[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(a[0], a[1], 0x88), _mm512_shuffle_f32x4(a[0], a[1], 0xDD));
}

template <int HD, typename T>
SOV_KT void attend_lane(const float* q_in, float* out, int32_t first, int32_t last, const T* k, const T* v,
                        const AttentionParams& p) {
  constexpr int kC = HD / 16;  // vectors per row
  __m512 q[kC], o[kC];
  const __m512 scale = _mm512_set1_ps(p.scale);
  for (int c = 0; c < kC; ++c) {
    q[c] = _mm512_mul_ps(_mm512_loadu_ps(q_in + 16 * c), scale);
    o[c] = _mm512_setzero_ps();
  }
  float m = -1e30f, l = 0.0f;
  alignas(64) float pj[kL];
  for (int32_t j0 = first; j0 <= last; j0 += kL) {
    const int n = std::min<int32_t>(kL, last - j0 + 1);
    // Past the last key, repeat it (masked out below): no branch, so the 16 independent dot
    // products unroll and overlap instead of running one dependency chain at a time.
    __m512 part[kL];
#pragma GCC unroll 16
    for (int j = 0; j < kL; ++j) {
      const T* kr = k + static_cast<size_t>(j0 + std::min(j, n - 1)) * p.kv_stride;
      part[j] = _mm512_mul_ps(q[0], load_kv(kr));
      for (int c = 1; c < kC; ++c) part[j] = _mm512_fmadd_ps(q[c], load_kv(kr + 16 * c), part[j]);
    }
    __m512 s = sum16(part);
    if (p.softcap > 0.0f) {
      const __m512 cap = _mm512_set1_ps(p.softcap);
      s = _mm512_mul_ps(cap, tanh512(_mm512_div_ps(s, cap)));
    }
    const __mmask16 valid = static_cast<__mmask16>((1u << n) - 1);
    const float m_new = std::max(m, _mm512_mask_reduce_max_ps(valid, s));
    const float c = std::exp(m - m_new);
    m = m_new;
    const __m512 e = _mm512_maskz_mov_ps(valid, exp512(_mm512_sub_ps(s, _mm512_set1_ps(m))));
    l = l * c + _mm512_reduce_add_ps(e);
    _mm512_store_ps(pj, e);
    const __m512 cv = _mm512_set1_ps(c);
    for (int cc = 0; cc < kC; ++cc) o[cc] = _mm512_mul_ps(o[cc], cv);
    // Even and odd keys into separate sums: two FMA chains per vector instead of one.
    __m512 o2[kC];
    for (int cc = 0; cc < kC; ++cc) o2[cc] = _mm512_setzero_ps();
    int j = 0;
    for (; j + 1 < n; j += 2) {
      const T* vr = v + static_cast<size_t>(j0 + j) * p.kv_stride;
      const __m512 w0 = _mm512_set1_ps(pj[j]), w1 = _mm512_set1_ps(pj[j + 1]);
      for (int cc = 0; cc < kC; ++cc) {
        o[cc] = _mm512_fmadd_ps(w0, load_kv(vr + 16 * cc), o[cc]);
        o2[cc] = _mm512_fmadd_ps(w1, load_kv(vr + p.kv_stride + 16 * cc), o2[cc]);
      }
    }
    if (j < n) {
      const T* vr = v + static_cast<size_t>(j0 + j) * p.kv_stride;
      const __m512 w = _mm512_set1_ps(pj[j]);
      for (int cc = 0; cc < kC; ++cc) o[cc] = _mm512_fmadd_ps(w, load_kv(vr + 16 * cc), o[cc]);
    }
    for (int cc = 0; cc < kC; ++cc) o[cc] = _mm512_add_ps(o[cc], o2[cc]);
  }
  const __m512 inv = _mm512_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
  for (int c = 0; c < kC; ++c) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(o[c], inv));
}

template <int HD, typename T>
SOV_KT void attend(const AttentionBlock& b, const T* k, const T* v, const AttentionParams& p,
                   float* scratch) {
  if (b.n_lanes <= kFewLanes) {
    for (int lane = 0; lane < b.n_lanes; ++lane)
      attend_lane<HD, T>(b.q[lane], b.out[lane], b.first[lane], b.last[lane], k, v, p);
    return;
  }
  attend_many<HD, T>(b, k, v, p, scratch);
}

#undef SOV_KT

template <typename T>
bool dispatch(const AttentionBlock& block, const T* k, const T* v, const AttentionParams& p, float* scratch) {
  switch (p.head_dim) {
    case 32: attend<32>(block, k, v, p, scratch); return true;
    case 64: attend<64>(block, k, v, p, scratch); return true;
    case 128: attend<128>(block, k, v, p, scratch); return true;
    case 256: attend<256>(block, k, v, p, scratch); return true;
    default: return false;
  }
}

}  // namespace

bool avx512_attention(const AttentionBlock& block, const float* k, const float* v, const AttentionParams& p,
                      float* scratch) {
  return dispatch(block, k, v, p, scratch);
}

bool avx512_attention(const AttentionBlock& block, const uint16_t* k, const uint16_t* v,
                      const AttentionParams& p, float* scratch) {
  return dispatch(block, k, v, p, scratch);
}

}  // namespace sov::kernels::x86
