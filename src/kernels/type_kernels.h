// The per-type kernel table, in the manner of ggml's CPU type traits: for each weight
// type, the activation format its dot product wants (vec_dot_type), the function that
// converts float activations into that format (from_float) and the dot product itself.
//
// Activation formats, as ggml's CPU backend on x86 uses them:
//   Q4_0, Q5_0, Q8_0 -> Q8_0     Q4_1, Q5_1 -> Q8_1     Q2_K..Q6_K -> Q8_K
//   F16 -> F32 holding values rounded to fp16,  BF16 -> F32 holding values rounded to bf16,
//   F32 -> F32 (no conversion)
// Rounding the activations exactly as llama.cpp does keeps our logits within float
// rounding of its own on the same weights. vec_dot_type is the storage format of the
// converted activations; from_float is null only when no conversion happens.
//
// Tables are immutable after first use; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/types.h"
#include "kernels/isa.h"

namespace sov::kernels {

// Converts n floats into the activation format (n a multiple of its block size).
using FromFloatFn = void (*)(const float* x, void* y, int64_t n);
// Dot product of one weight row and one activation row of n elements.
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// Dot products of one weight row with 4 activation rows `a_stride` bytes apart:
// out[t] = vec_dot(n, w, a + t * a_stride). Decodes each weight block once for 4 tokens.
using VecDotX4Fn = void (*)(int64_t n, const void* w, const void* a, size_t a_stride, float* out);

struct TypeKernels {
  gguf::TensorType type = gguf::TensorType::kF32;          // weight type
  gguf::TensorType vec_dot_type = gguf::TensorType::kF32;  // activation format
  int block_size = 1;                                      // n_in must be a multiple of this
  FromFloatFn from_float = nullptr;                        // null: activations used as given
  VecDotFn vec_dot = nullptr;
  VecDotX4Fn vec_dot_x4 = nullptr;  // null: call vec_dot per token
  Isa vec_dot_isa = Isa::kScalar;   // the ISA vec_dot was actually written for
};

// Kernels for weight type t using at most `isa`, or null when t is not supported.
// Types without a kernel for `isa` fall back to the next lower ISA.
const TypeKernels* type_kernels(gguf::TensorType t, Isa isa);
inline const TypeKernels* type_kernels(gguf::TensorType t) {
  return type_kernels(t, active_isa());
}

}  // namespace sov::kernels
