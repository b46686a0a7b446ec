#include "kernels/isa.h"

#include <atomic>

#include "base/cpu.h"

namespace sov::kernels {
namespace {

Isa detect() {
#if defined(SOV_HAVE_X86_KERNELS) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
  if (!avx2) return Isa::kScalar;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  return avx512 ? Isa::kAvx512 : Isa::kAvx2;
#else
  return Isa::kScalar;
#endif
}

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(best_isa())};
  return isa;
}

}  // namespace

Isa best_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  return static_cast<Isa>(active().load(std::memory_order_relaxed));
}

Isa set_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_isa())) isa = best_isa();
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
  return isa;
}

bool has_avx512_bf16() {
#if defined(SOV_HAVE_X86_KERNELS) && (defined(__x86_64__) || defined(__i386__))
  static const bool has = best_isa() >= Isa::kAvx512 && cpu_has_avx512_bf16();
  return has;
#else
  return false;
#endif
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

}  // namespace sov::kernels
