// Reference quantization and dequantization of every tensor format Sovereign reads:
// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, and the
// activation formats Q8_1 and Q8_K.
//
// The quantizers follow ggml's reference quantizers (quantize_row_*_ref, what
// llama-quantize runs when no importance matrix is given) operation for operation, so
// files we write match llama-quantize's byte for byte or nearly so; see quant_test.cpp.
// The code is compiled without floating-point contraction so results do not depend on
// the build machine.
//
// All functions are pure (no state) and thread-safe. Row lengths must be multiples of
// the type's block size; the Status-returning dispatchers check that, the typed ones
// assume it.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "gguf/types.h"
#include "quant/blocks.h"

namespace sov::quant {

// True when dequantize_row / quantize_row handle type t.
bool can_dequantize(gguf::TensorType t);
bool can_quantize(gguf::TensorType t);

// dst[0..n) = the n values encoded in `src` (a row of type t).
Status dequantize_row(gguf::TensorType t, const void* src, float* dst, int64_t n);
// Encodes n floats as type t into dst (row_bytes(t, n) bytes).
Status quantize_row(gguf::TensorType t, const float* src, void* dst, int64_t n);

// Typed reference code; n is a multiple of the block size.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q8_1(const float* x, BlockQ8_1* y, int64_t n);
void quantize_row_q2_k(const float* x, BlockQ2_K* y, int64_t n);
void quantize_row_q3_k(const float* x, BlockQ3_K* y, int64_t n);
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n);
void quantize_row_q8_k(const float* x, BlockQ8_K* y, int64_t n);

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q8_1(const BlockQ8_1* x, float* y, int64_t n);
void dequantize_row_q2_k(const BlockQ2_K* x, float* y, int64_t n);
void dequantize_row_q3_k(const BlockQ3_K* x, float* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q8_k(const BlockQ8_K* x, float* y, int64_t n);

}  // namespace sov::quant
