// Matrix multiplication of a weight matrix in any supported tensor type with float
// activations: the one operation that dominates inference time.
//
// Layout (see docs/formats.md): a weight W has n_out rows of n_in elements (GGUF ne[0] =
// n_in is contiguous); rows are `row_bytes` apart. Activations X are n_tokens rows of n_in
// floats; the output Y is n_tokens rows of n_out floats:  Y[t][o] = sum_i W[o][i] * X[t][i].
//
// Where the weight format wants it (the quantized types), activations are first quantized
// to 8 bits per value (Q8_0 or Q8_K blocks) exactly as the reference implementation does,
// then integer dot products are used. The scalar path is the oracle; optimized variants
// (AVX2, AVX-512) are chosen at run time and must agree with it.
//
// Thread-safety: matmul is re-entrant; `pool` splits the output rows over its threads.
// `scratch` must not be shared between concurrent calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/types.h"

namespace sov::kernels {

struct WeightView {
  gguf::TensorType type;
  const void* data;
  int64_t n_in;      // elements per row (multiple of the type's block size)
  int64_t n_out;     // rows
  size_t row_bytes;  // bytes between rows
};

// Reusable buffers for quantized activations; grows on first use, then never reallocates
// for the same shapes.
struct Scratch {
  std::vector<uint8_t> act;
};

// True when matmul supports weights of type t.
bool supports(gguf::TensorType t);

// Y[n_tokens][n_out] = X[n_tokens][n_in] · Wᵀ. `pool` may be null (runs on the caller).
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, Scratch* scratch,
            ThreadPool* pool);

// Dequantizes row `row` of w into n_in floats (embedding lookups, tests).
void dequantize_row(const WeightView& w, int64_t row, float* out);

}  // namespace sov::kernels
