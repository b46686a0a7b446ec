// Scale searches used by the K-quant reference quantizers: given a group of values, find
// the integer levels and the scale (and min) that minimise a weighted error. These
// mirror ggml's make_qx_quants / make_q3_quants / make_qkx2_quants so that the chosen
// levels, and therefore the bytes of quantized files, match llama-quantize's.
// Internal to quant/. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <cstring>

namespace sov::quant::detail {

// Round to nearest, ties to even, for |v| < 2^22 (ggml's magic-number rounding).
inline int nearest_int(float v) {
  const float shifted = v + 12582912.0f;  // 1.5 * 2^23: the integer lands in the low mantissa bits
  int32_t i;
  std::memcpy(&i, &shifted, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// Symmetric levels in [-nmax, nmax-1], stored with +nmax. Weights x^2 (ggml rmse_type 1),
// scale refined by least squares over 19 trial inverse scales. Returns the scale.
float make_qx_quants(int n, int nmax, const float* x, int8_t* levels);

// Symmetric levels for Q3_K: least squares with coordinate-descent level updates.
// Levels are stored with +nmax. Returns the scale.
float make_q3_quants(int n, int nmax, const float* x, int8_t* levels);

// Asymmetric levels in [0, nmax] with a min <= 0: x ~ scale * l - the_min. Tries
// nstep+1 inverse scales (rmin + rdelta * step + nmax) / (max - min) and keeps the best
// weighted error (absolute when use_mad, else squared). Returns the scale; *the_min gets
// the (positive) offset.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* levels, float* the_min,
                       uint8_t* scratch_levels, float rmin, float rdelta, int nstep, bool use_mad);

}  // namespace sov::quant::detail
