// Dense matrix product for float-type weights (F32, F16, BF16) and many tokens: the
// encoder's hot loop. Y[n_tokens][n_out] = X[n_tokens][n_in] · Wᵀ (same layout as
// kernels::matmul: W has n_out rows of n_in, `row_bytes` apart).
//
// Unlike kernels::matmul, which computes each output as one dot product (and rounds
// activations to fp16/bf16 to mirror llama.cpp), this is a register-blocked GEMM: panels
// of W are converted to float and transposed into a per-thread buffer, then a micro-kernel
// accumulates a block of tokens x outputs with broadcast FMAs (AVX-512: 8 x 32, AVX2:
// 6 x 16). Activations stay float; weights are widened exactly.
//
// Each output is summed in the same order whatever the token count or grouping: blocks of
// kGemmKc inputs in sequence, each accumulated one input at a time. So a token's outputs do
// not depend on the other tokens in the call, nor on the thread count.
//
// Thread-safety: re-entrant; `pool` (may be null) splits output panels over its threads;
// each thread's packing buffer is thread-local and grows once.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/matmul.h"

namespace sov::engine {

inline constexpr int64_t kGemmKc = 256;  // inputs per packed block

// True when gemm() runs weights of w's type on this CPU with the current kernels ISA
// (F32, F16, BF16 with AVX2+FMA+F16C or AVX-512).
bool gemm_supported(const kernels::WeightView& w);

// Requires gemm_supported(w). `ldx` and `ldy` are the row strides of X and Y in floats
// (0: n_in and n_out).
void gemm(const kernels::WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool* pool,
          int64_t ldx = 0, int64_t ldy = 0);

}  // namespace sov::engine
