// Element-wise steps of the encoder forward pass, vectorised: softmax, SiLU-gated products
// and GELU. The AVX2 variants (chosen at run time when the CPU has AVX2+FMA and kernels
// are not forced to scalar) use a polynomial exp accurate to about 2 ulp; the scalar
// variants use std::exp. GELU is evaluated as llama.cpp's CPU backend does: the tanh
// approximation looked up in a table indexed by the input rounded to fp16 (inputs beyond
// ±10 are exact: 0 or x). Pure functions; thread-safe; none allocates (the GELU table is
// built once, on first use).
#pragma once

#include <cstdint>

namespace sov::engine {

// Softmax over n values in place (-inf entries get weight 0; all -inf gives zeros).
void softmax_fast(float* x, int64_t n);
// up[i] = silu(gate[i]) * up[i]
void swiglu_inplace(const float* gate, float* up, int64_t n);
// x[i] = silu(x[i])
void silu_inplace(float* x, int64_t n);
// x[i] = gelu(x[i]) through the fp16 table.
void gelu_inplace(float* x, int64_t n);

}  // namespace sov::engine
