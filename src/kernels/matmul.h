// Matrix multiplication of a weight matrix in any supported tensor type with float
// activations: the one operation that dominates inference time.
//
// Layout (see docs/formats.md): a weight W has n_out rows of n_in elements (GGUF ne[0] =
// n_in is contiguous); rows are `row_bytes` apart. Activations X are n_tokens rows of n_in
// floats; the output Y is n_tokens rows of n_out floats:  Y[t][o] = sum_i W[o][i] * X[t][i].
//
// Activations are first converted as llama.cpp's CPU backend does (see type_kernels.h):
// quantized to 8 bits per value (Q8_0, Q8_1 or Q8_K blocks) for the quantized types, then
// integer dot products are used; rounded to fp16 / bf16 precision for F16 / BF16 weights.
// The scalar path (kernels/ref) is the oracle; AVX2 and AVX-512 variants are chosen at run
// time (isa.h) and agree with it to float rounding. For the quantized types the SIMD
// kernels also accumulate in the order of ggml's x86 kernels, so the same inputs give
// llama.cpp's results bit for bit (end to end, most quantized test models then match its
// reference logits to ~1e-6).
//
// Weights with a packed copy (see packed.h) use the AVX-512 VNNI kernels of that layout:
// 16 rows per vector, up to 8 tokens per pass, cache-blocked; results agree with the
// row-major kernels to float summation order.
//
// Thread-safety: matmul is re-entrant; `pool` splits the output rows over its threads.
// `scratch` must not be shared between concurrent calls (when null, a thread-local buffer
// is used). Nothing allocates per call once the scratch has grown to the largest shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/types.h"
#include "kernels/isa.h"

namespace sov::kernels {

struct WeightView {
  gguf::TensorType type;
  const void* data;
  int64_t n_in;      // elements per row (multiple of the type's block size)
  int64_t n_out;     // rows
  size_t row_bytes;  // bytes between rows
  // Optional interleaved copy of rows [0, n_out / 16 * 16) (kernels/packed.h), used instead
  // of `data` for those rows when the active ISA has the packed kernels.
  const uint8_t* packed = nullptr;
};

// Reusable buffers for quantized activations; grows on first use, then never reallocates
// for the same shapes.
struct Scratch {
  std::vector<uint8_t> act;
  std::vector<uint8_t> packed_act;
};

// True when matmul supports weights of type t.
bool supports(gguf::TensorType t);

// Ok when matmul can run on w: a supported type, n_in a multiple of the type's block
// size (32 for Q4_0..Q8_0, 256 for the K-quants), rows not overlapping. Engines call this
// once per weight at load; matmul itself does not report errors.
Status validate(const WeightView& w);

// Y[n_tokens][n_out] = X[n_tokens][n_in] · Wᵀ. `pool` may be null (runs on the caller).
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, Scratch* scratch,
            ThreadPool* pool);

// One weight of a matmul_many call and where its output goes ([n_tokens][w->n_out]).
struct MatmulTarget {
  const WeightView* w;
  float* y;
};

// Several weights applied to the same activations (the q, k and v projections; gate and
// up): when they share a type and kernel path, the activations are converted once and one
// parallel loop covers every output row, which saves conversions and thread barriers;
// otherwise it is one matmul() per target. Same results as separate matmul() calls.
void matmul_many(std::span<const MatmulTarget> targets, const float* x, int64_t n_tokens, Scratch* scratch,
                 ThreadPool* pool);

// Dequantizes row `row` of w into n_in floats (embedding lookups, tests); reads the packed
// copy when w has one.
void dequantize_row(const WeightView& w, int64_t row, float* out);

}  // namespace sov::kernels
