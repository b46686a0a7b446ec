// Elementwise and per-row operations of the optimized forward pass, vectorized with
// AVX-512 where the CPU has it (scalar loops otherwise): RMS norm, residual add, the gated
// activations of the feed-forward block, rounding to half precision (the KV cache) and the
// argmax of greedy sampling. The engine's scalar reference forward keeps its own plain
// versions (engine/ops.h); these agree with them to float rounding (the SIMD exp / tanh are
// accurate to a few ulp).
//
// Pure functions, thread-safe; none allocates.
#pragma once

#include <cstdint>

#include "kernels/isa.h"

namespace sov::kernels {

// out[i] = x[i] / sqrt(mean(x²) + eps) * w[i]; out may alias x.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* out);
// x[i] += y[i]
void add(float* x, const float* y, int64_t n);
// out[i] = silu(gate[i]) * up[i]; out may alias gate.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
// out[i] = gelu_tanh(gate[i]) * up[i]; out may alias gate.
void gelu_mul(const float* gate, const float* up, int64_t n, float* out);
// The position of the largest of x[0..n) (the first one on ties); NaN and -inf are never
// chosen, so -1 when nothing else is there.
int64_t argmax(const float* x, int64_t n);
// out[i] = x[i] as IEEE half (round to nearest even, as quant::fp32_to_fp16).
void to_half(const float* x, int64_t n, uint16_t* out);

}  // namespace sov::kernels
