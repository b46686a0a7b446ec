// Activation conversion (float rows into the formats the dot products read).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ref/ref_kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant.h"

namespace sov::kernels::ref {
namespace {

// Round half to even for |v| < 2^22, like _mm256_round_ps(v, _MM_ROUND_NEAREST).
inline int round_even(float v) {
  const float shifted = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &shifted, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// One block of 32: scale d = amax / 127, q = round_even(x * 127 / amax). Returns sum(q).
int quantize_block_32(const float* x, float* d_out, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  *d_out = amax / 127.0f;
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  int sum = 0;
  for (int j = 0; j < 32; ++j) {
    q[j] = static_cast<int8_t>(round_even(x[j] * id));
    sum += q[j];
  }
  return sum;
}

}  // namespace

void from_float_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_0*>(vy);
  for (int64_t b = 0; b < n / 32; ++b) {
    float d;
    quantize_block_32(x + 32 * b, &d, y[b].qs);
    y[b].d = quant::fp32_to_fp16(d);
  }
}

void from_float_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<quant::BlockQ8_1*>(vy);
  for (int64_t b = 0; b < n / 32; ++b) {
    float d;
    const int sum = quantize_block_32(x + 32 * b, &d, y[b].qs);
    y[b].d = quant::fp32_to_fp16(d);
    y[b].s = quant::fp32_to_fp16(d * static_cast<float>(sum));
  }
}

void from_float_q8_k(const float* x, void* y, int64_t n) {
  quant::quantize_row_q8_k(x, static_cast<quant::BlockQ8_K*>(y), n);
}

void from_float_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<float*>(vy);
  for (int64_t i = 0; i < n; ++i) y[i] = quant::fp16_to_fp32(quant::fp32_to_fp16(x[i]));
}

void from_float_bf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<float*>(vy);
  for (int64_t i = 0; i < n; ++i) y[i] = quant::bf16_to_fp32(quant::fp32_to_bf16(x[i]));
}

}  // namespace sov::kernels::ref
