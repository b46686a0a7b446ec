// SIMD kernels for x86-64, compiled for their ISA with function-level target attributes so
// the rest of the binary still runs on CPUs without them. Only call a kernel after checking
// best_isa() (type_kernels() does). Each returns the value of its ref:: counterpart up to
// float summation order; activation converters return identical bytes.
#pragma once

#include "gguf/types.h"
#include "kernels/type_kernels.h"

namespace sov::kernels::x86 {

// Kernels for weight type t, or null when this ISA has none for t.
VecDotFn avx2_vec_dot(gguf::TensorType t);
VecDotX4Fn avx2_vec_dot_x4(gguf::TensorType t);
VecDotFn avx512_vec_dot(gguf::TensorType t);
VecDotX4Fn avx512_vec_dot_x4(gguf::TensorType t);

// Activation converter for weight type t (see ref::from_float_*), or null if none.
FromFloatFn avx2_from_float(gguf::TensorType t);

}  // namespace sov::kernels::x86
