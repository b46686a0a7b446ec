// Instruction-set selection for the compute kernels. The best ISA the CPU supports is
// detected once from CPUID; tests and benchmarks may force a lower one (down to the
// scalar reference) without touching the environment.
//
// Thread-safety: best_isa() and active_isa() may be called from any thread. set_isa()
// changes which kernels later matmul calls use; do not call it while another thread is
// inside a matmul.
#pragma once

#include <string_view>

namespace sov::kernels {

enum class Isa {
  kScalar = 0,  // portable C++: the reference every other path is tested against
  kAvx2 = 1,    // AVX2 + FMA + F16C (x86-64-v3)
  kAvx512 = 2,  // AVX-512 F/BW/VL/VNNI on top of kAvx2
};

// The highest ISA this CPU supports.
Isa best_isa();
// The ISA kernels use now: best_isa() unless set_isa() chose a lower one.
Isa active_isa();
// Uses `isa` from now on, clamped to best_isa(); returns the ISA actually selected.
Isa set_isa(Isa isa);

std::string_view isa_name(Isa isa);

// True when the CPU has AVX512_BF16 (vdpbf16ps) on top of kAvx512; the BF16 weight kernels
// use it while the active ISA is kAvx512.
bool has_avx512_bf16();

}  // namespace sov::kernels
