// SIMD kernels for x86-64, compiled for their ISA with function-level target attributes so
// the rest of the binary still runs on CPUs without them. Only call a kernel after checking
// best_isa() (type_kernels() does). Each returns the value of its ref:: counterpart up to
// float summation order; activation converters return identical bytes.
#pragma once

#include "gguf/types.h"
#include "kernels/attention.h"
#include "kernels/type_kernels.h"

namespace sov::kernels::x86 {

// Kernels for weight type t, or null when this ISA has none for t.
VecDotFn avx2_vec_dot(gguf::TensorType t);
VecDotX4Fn avx2_vec_dot_x4(gguf::TensorType t);
VecDotFn avx512_vec_dot(gguf::TensorType t);
VecDotX4Fn avx512_vec_dot_x4(gguf::TensorType t);

// Activation converter for weight type t (see ref::from_float_*), or null if none.
FromFloatFn avx2_from_float(gguf::TensorType t);

// Kernels for a packed layout (kernels/packed.h), AVX-512 VNNI only.
struct PackedKernel {
  // Bytes of one token's converted activations for rows of n_in values.
  size_t (*act_bytes)(int64_t n_in);
  // Converts one token's n_in floats into the kernel's activation format.
  void (*from_float)(const float* x, uint8_t* act, int64_t n_in);
  // y[t * ldy + 16 * g + r] = (row 16 g + r) . (token t), for groups [g0, g1) of the packed
  // weight w and tokens [0, n_tok) of `act` (rows act_stride bytes apart).
  void (*gemm)(const uint8_t* w, int64_t n_in, int64_t g0, int64_t g1, const uint8_t* act, size_t act_stride,
               int64_t n_tok, float* y, int64_t ldy);
};
// The packed kernels for weight type t, or null when t has no packed layout.
const PackedKernel* avx512_packed(gguf::TensorType t);

// Row-major products for float weight formats (F32, F16, BF16) with float activations:
// y[t * ldy + r] for rows [r0, r1) and tokens [0, n_tok); activations are n_tok rows of
// n_in floats. n_in must be a multiple of 16.
using FloatGemmFn = void (*)(const void* w, size_t row_bytes, int64_t n_in, int64_t r0, int64_t r1,
                             const float* act, int64_t n_tok, float* y, int64_t ldy);
FloatGemmFn avx512_float_gemm(gguf::TensorType t);
// BF16 weights with BF16 activations (act: n_tok rows of n_in bf16 values, as uint16) using
// vdpbf16ps (AVX512_BF16), two products per lane per instruction. n_in must be a multiple
// of 32. Same contract as FloatGemmFn otherwise.
void avx512_bf16_gemm(const void* w, size_t row_bytes, int64_t n_in, int64_t r0, int64_t r1,
                      const uint16_t* act, int64_t n_tok, float* y, int64_t ldy);

// Attention (kernels/attention.h) over a float or half-precision cache, for head sizes 32,
// 64, 128 and 256; false for others.
bool avx512_attention(const AttentionBlock& block, const float* k, const float* v, const AttentionParams& p,
                      float* scratch);
bool avx512_attention(const AttentionBlock& block, const uint16_t* k, const uint16_t* v,
                      const AttentionParams& p, float* scratch);

}  // namespace sov::kernels::x86
