// Test-only: the relative rmse (rms error / rms signal) each format may show when it
// quantizes Gaussian data, about 1.25x what the format measures (see quant_test.cpp).
#pragma once

#include "gguf/types.h"

namespace sov::quant::test {

inline double rmse_limit(gguf::TensorType t) {
  using gguf::TensorType;
  switch (t) {
    case TensorType::kF16: return 3e-4;     // measured 2.1e-4
    case TensorType::kBF16: return 2.5e-3;  // 1.7e-3
    case TensorType::kQ8_0: return 0.0065;  // 0.0054
    case TensorType::kQ8_1: return 0.0065;  // 0.0054
    case TensorType::kQ8_K: return 0.0085;  // 0.0068
    case TensorType::kQ6_K: return 0.022;   // 0.0177
    case TensorType::kQ5_K: return 0.045;   // 0.036
    case TensorType::kQ5_1: return 0.047;   // 0.038
    case TensorType::kQ5_0: return 0.053;   // 0.043
    case TensorType::kQ4_K: return 0.09;    // 0.071
    case TensorType::kQ4_1: return 0.097;   // 0.078
    case TensorType::kQ4_0: return 0.107;   // 0.086
    case TensorType::kQ3_K: return 0.19;    // 0.151
    case TensorType::kQ2_K: return 0.37;    // 0.297
    default: return 0.0;
  }
}

}  // namespace sov::quant::test
