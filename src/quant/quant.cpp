#include "quant/quant.h"

#include <cstring>
#include <string>

#include "quant/fp16.h"

namespace sov::quant {
namespace {

using gguf::TensorType;

Status check_length(TensorType t, int64_t n) {
  const auto tr = gguf::type_traits(static_cast<uint32_t>(t));
  if (!tr) return Status::unsupported("unknown tensor type " + std::to_string(static_cast<uint32_t>(t)));
  if (n < 0 || n % tr->block_size != 0) {
    return Status::invalid_argument("row of " + std::to_string(n) + " elements is not a multiple of " +
                                    std::to_string(tr->block_size) + " (block size of " +
                                    std::string(tr->name) + ")");
  }
  return Status::ok();
}

}  // namespace

bool can_dequantize(TensorType t) {
  switch (t) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ4_0:
    case TensorType::kQ4_1:
    case TensorType::kQ5_0:
    case TensorType::kQ5_1:
    case TensorType::kQ8_0:
    case TensorType::kQ8_1:
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K:
    case TensorType::kQ8_K: return true;
    default: return false;
  }
}

bool can_quantize(TensorType t) {
  return can_dequantize(t);
}

Status dequantize_row(TensorType t, const void* src, float* dst, int64_t n) {
  if (!can_dequantize(t)) {
    return Status::unsupported("cannot dequantize tensor type " + std::string(gguf::type_name(t)));
  }
  SOV_RETURN_IF_ERROR(check_length(t, n));
  switch (t) {
    case TensorType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); break;
    case TensorType::kF16: fp16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n); break;
    case TensorType::kBF16: bf16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n); break;
    case TensorType::kQ4_0: dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n); break;
    case TensorType::kQ4_1: dequantize_row_q4_1(static_cast<const BlockQ4_1*>(src), dst, n); break;
    case TensorType::kQ5_0: dequantize_row_q5_0(static_cast<const BlockQ5_0*>(src), dst, n); break;
    case TensorType::kQ5_1: dequantize_row_q5_1(static_cast<const BlockQ5_1*>(src), dst, n); break;
    case TensorType::kQ8_0: dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n); break;
    case TensorType::kQ8_1: dequantize_row_q8_1(static_cast<const BlockQ8_1*>(src), dst, n); break;
    case TensorType::kQ2_K: dequantize_row_q2_k(static_cast<const BlockQ2_K*>(src), dst, n); break;
    case TensorType::kQ3_K: dequantize_row_q3_k(static_cast<const BlockQ3_K*>(src), dst, n); break;
    case TensorType::kQ4_K: dequantize_row_q4_k(static_cast<const BlockQ4_K*>(src), dst, n); break;
    case TensorType::kQ5_K: dequantize_row_q5_k(static_cast<const BlockQ5_K*>(src), dst, n); break;
    case TensorType::kQ6_K: dequantize_row_q6_k(static_cast<const BlockQ6_K*>(src), dst, n); break;
    case TensorType::kQ8_K: dequantize_row_q8_k(static_cast<const BlockQ8_K*>(src), dst, n); break;
    default: break;
  }
  return Status::ok();
}

Status quantize_row(TensorType t, const float* src, void* dst, int64_t n) {
  if (!can_quantize(t)) {
    return Status::unsupported("cannot quantize to tensor type " + std::string(gguf::type_name(t)));
  }
  SOV_RETURN_IF_ERROR(check_length(t, n));
  switch (t) {
    case TensorType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); break;
    case TensorType::kF16: fp32_to_fp16_row(src, static_cast<uint16_t*>(dst), n); break;
    case TensorType::kBF16: fp32_to_bf16_row(src, static_cast<uint16_t*>(dst), n); break;
    case TensorType::kQ4_0: quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n); break;
    case TensorType::kQ4_1: quantize_row_q4_1(src, static_cast<BlockQ4_1*>(dst), n); break;
    case TensorType::kQ5_0: quantize_row_q5_0(src, static_cast<BlockQ5_0*>(dst), n); break;
    case TensorType::kQ5_1: quantize_row_q5_1(src, static_cast<BlockQ5_1*>(dst), n); break;
    case TensorType::kQ8_0: quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n); break;
    case TensorType::kQ8_1: quantize_row_q8_1(src, static_cast<BlockQ8_1*>(dst), n); break;
    case TensorType::kQ2_K: quantize_row_q2_k(src, static_cast<BlockQ2_K*>(dst), n); break;
    case TensorType::kQ3_K: quantize_row_q3_k(src, static_cast<BlockQ3_K*>(dst), n); break;
    case TensorType::kQ4_K: quantize_row_q4_k(src, static_cast<BlockQ4_K*>(dst), n); break;
    case TensorType::kQ5_K: quantize_row_q5_k(src, static_cast<BlockQ5_K*>(dst), n); break;
    case TensorType::kQ6_K: quantize_row_q6_k(src, static_cast<BlockQ6_K*>(dst), n); break;
    case TensorType::kQ8_K: quantize_row_q8_k(src, static_cast<BlockQ8_K*>(dst), n); break;
    default: break;
  }
  return Status::ok();
}

}  // namespace sov::quant
