// Scalar reference kernels: activation conversion and one dot product per weight type.
// Integer parts are exact; the float combination is done per block in a fixed order.
// These are the oracle for the SIMD kernels and stay in the tree forever.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>

namespace sov::kernels::ref {

// Activation formats. q8_0 / q8_1 follow ggml's x86 quantize_row_q8_0 / _q8_1 (scale
// 127 / amax, round half to even), which differ from the weight quantizers in quant/.
// f16 / bf16 round each value to that precision (as ggml converts matmul inputs for F16 /
// BF16 weights) but store it as a float, so SIMD kernels need no conversion per token.
void from_float_q8_0(const float* x, void* y, int64_t n);
void from_float_q8_1(const float* x, void* y, int64_t n);
void from_float_q8_k(const float* x, void* y, int64_t n);
void from_float_f16(const float* x, void* y, int64_t n);
void from_float_bf16(const float* x, void* y, int64_t n);

// Dot products: w is a weight row, a an activation row in the matching format (floats for
// F32, F16 and BF16 weights).
float dot_f32(int64_t n, const void* w, const void* a);
float dot_f16(int64_t n, const void* w, const void* a);
float dot_bf16(int64_t n, const void* w, const void* a);
float dot_q4_0(int64_t n, const void* w, const void* a);
float dot_q4_1(int64_t n, const void* w, const void* a);
float dot_q5_0(int64_t n, const void* w, const void* a);
float dot_q5_1(int64_t n, const void* w, const void* a);
float dot_q8_0(int64_t n, const void* w, const void* a);
float dot_q2_k(int64_t n, const void* w, const void* a);
float dot_q3_k(int64_t n, const void* w, const void* a);
float dot_q4_k(int64_t n, const void* w, const void* a);
float dot_q5_k(int64_t n, const void* w, const void* a);
float dot_q6_k(int64_t n, const void* w, const void* a);

}  // namespace sov::kernels::ref
