// Shared AVX2 helpers for the x86 kernels (internal to kernels/x86). Every function
// carries the avx2 target attribute, so including this header does not require
// compiling the whole file for AVX2.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define SOV_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SOV_TARGET_AVX512 \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace sov::kernels::x86 {

SOV_TARGET_AVX2 inline float half_to_float(uint16_t h) {
  return _cvtsh_ss(h);
}

SOV_TARGET_AVX2 inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Unsigned bytes (< 128) times signed bytes, summed in fours into 8 int32 lanes.
SOV_TARGET_AVX2 inline __m256i dot_u8_avx2(__m256i w, __m256i a) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1));
}

// The 32 nibbles of 16 bytes: low nibbles in bytes 0..15, high nibbles in 16..31.
SOV_TARGET_AVX2 inline __m256i unpack_nibbles_32(const uint8_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Byte j = 0xFF where bit j of the 32-bit word at p is set, else 0.
SOV_TARGET_AVX2 inline __m256i bits_to_bytes_32(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
}

SOV_TARGET_AVX2 inline __m256i loadu_256(const void* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Two int16 scales: lanes 0..7 get lo, lanes 8..15 get hi (bytes 0..15 and 16..31 of
// the maddubs input they multiply).
SOV_TARGET_AVX2 inline __m256i scale_pair(int lo, int hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(hi)), _mm_set1_epi16(static_cast<int16_t>(lo)));
}

// The 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K / Q5_K block.
inline void unpack_k4_scales(const uint8_t* packed, uint8_t out[16]) {
  constexpr uint32_t kMask6 = 0x3f3f3f3f, kMaskLow4 = 0x0f0f0f0f, kMaskTop2 = 0x03030303;
  uint32_t u[4];
  std::memcpy(u, packed, 12);
  u[3] = ((u[2] >> 4) & kMaskLow4) | (((u[1] >> 6) & kMaskTop2) << 4);
  const uint32_t mins_low = u[1] & kMask6;
  u[1] = (u[2] & kMaskLow4) | (((u[0] >> 6) & kMaskTop2) << 4);
  u[2] = mins_low;
  u[0] &= kMask6;
  std::memcpy(out, u, 16);
}

}  // namespace sov::kernels::x86
