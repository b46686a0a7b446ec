// CPU feature queries that compilers' __builtin_cpu_supports does not cover everywhere
// (clang 14 knows neither "f16c" nor "avx512bf16"). Read straight from CPUID; false on
// non-x86 builds. Thread-safe (pure functions).
#pragma once

namespace sov {

// F16C half-precision conversions (CPUID.1:ECX bit 29).
bool cpu_has_f16c();
// AVX512_BF16 (CPUID.(7,1):EAX bit 5). Callers must also check that AVX-512 is usable.
bool cpu_has_avx512_bf16();

}  // namespace sov
