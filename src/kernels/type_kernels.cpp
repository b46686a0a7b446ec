#include "kernels/type_kernels.h"

#include <array>

#include "kernels/ref/ref_kernels.h"
#if defined(SOV_HAVE_X86_KERNELS)
#include "kernels/x86/x86_kernels.h"
#endif

namespace sov::kernels {
namespace {

using gguf::TensorType;

constexpr std::array<TensorType, 13> kSupported = {
    TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0, TensorType::kQ4_1,
    TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0, TensorType::kQ2_K, TensorType::kQ3_K,
    TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K,
};

TypeKernels scalar_kernels(TensorType t) {
  TypeKernels k;
  k.type = t;
  switch (t) {
    case TensorType::kF32: k.vec_dot = ref::dot_f32; break;
    case TensorType::kF16:
      k.from_float = ref::from_float_f16;
      k.vec_dot = ref::dot_f16;
      break;
    case TensorType::kBF16:
      k.from_float = ref::from_float_bf16;
      k.vec_dot = ref::dot_bf16;
      break;
    case TensorType::kQ4_0: k.vec_dot = ref::dot_q4_0; break;
    case TensorType::kQ4_1: k.vec_dot = ref::dot_q4_1; break;
    case TensorType::kQ5_0: k.vec_dot = ref::dot_q5_0; break;
    case TensorType::kQ5_1: k.vec_dot = ref::dot_q5_1; break;
    case TensorType::kQ8_0: k.vec_dot = ref::dot_q8_0; break;
    case TensorType::kQ2_K: k.vec_dot = ref::dot_q2_k; break;
    case TensorType::kQ3_K: k.vec_dot = ref::dot_q3_k; break;
    case TensorType::kQ4_K: k.vec_dot = ref::dot_q4_k; break;
    case TensorType::kQ5_K: k.vec_dot = ref::dot_q5_k; break;
    case TensorType::kQ6_K: k.vec_dot = ref::dot_q6_k; break;
    default: break;
  }
  switch (t) {
    case TensorType::kQ4_0:
    case TensorType::kQ5_0:
    case TensorType::kQ8_0:
      k.vec_dot_type = TensorType::kQ8_0;
      k.from_float = ref::from_float_q8_0;
      k.block_size = 32;
      break;
    case TensorType::kQ4_1:
    case TensorType::kQ5_1:
      k.vec_dot_type = TensorType::kQ8_1;
      k.from_float = ref::from_float_q8_1;
      k.block_size = 32;
      break;
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K:
      k.vec_dot_type = TensorType::kQ8_K;
      k.from_float = ref::from_float_q8_k;
      k.block_size = 256;
      break;
    default: break;
  }
  return k;
}

struct Tables {
  // [isa][index in kSupported]
  std::array<std::array<TypeKernels, kSupported.size()>, 3> by_isa;

  Tables() {
    const Isa best = best_isa();
    for (size_t i = 0; i < kSupported.size(); ++i) {
      const TensorType t = kSupported[i];
      TypeKernels k = scalar_kernels(t);
      by_isa[0][i] = k;
#if defined(SOV_HAVE_X86_KERNELS)
      if (best >= Isa::kAvx2) {
        if (VecDotFn f = x86::avx2_vec_dot(t)) {
          k.vec_dot = f;
          k.vec_dot_isa = Isa::kAvx2;
        }
        if (VecDotX4Fn f = x86::avx2_vec_dot_x4(t)) k.vec_dot_x4 = f;
        if (FromFloatFn f = x86::avx2_from_float(t)) k.from_float = f;
      }
      by_isa[1][i] = k;
      if (best >= Isa::kAvx512) {
        if (VecDotFn f = x86::avx512_vec_dot(t)) {
          k.vec_dot = f;
          k.vec_dot_isa = Isa::kAvx512;
        }
        if (VecDotX4Fn f = x86::avx512_vec_dot_x4(t)) k.vec_dot_x4 = f;
      }
      by_isa[2][i] = k;
#else
      (void)best;
      by_isa[1][i] = by_isa[2][i] = k;
#endif
    }
  }
};

}  // namespace

const TypeKernels* type_kernels(TensorType t, Isa isa) {
  static const Tables tables;
  if (static_cast<int>(isa) > static_cast<int>(best_isa())) isa = best_isa();
  for (size_t i = 0; i < kSupported.size(); ++i) {
    if (kSupported[i] == t) return &tables.by_isa[static_cast<int>(isa)][i];
  }
  return nullptr;
}

}  // namespace sov::kernels
