// Memory read bandwidth: the bound on generation speed (every weight byte is read once per
// token). Sums a buffer much larger than the caches with 1..T threads, each thread reading
// its own contiguous slice, as the matrix-vector kernels do, and reports the best of REPS.
//
//   membw [--threads T] [--mib SIZE] [--reps N] [--json]
//
// Numbers are for information only; nothing here is a test.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

// Sums 32-byte words; several independent accumulators keep the loads in flight.
__attribute__((target("avx2"))) uint64_t read_slice(const uint8_t* p, size_t bytes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 128 <= bytes; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  uint64_t out[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), s);
  return out[0] + out[1] + out[2] + out[3];
}

}  // namespace

int main(int argc, char** argv) {
  int max_threads = sov::physical_cores();
  size_t mib = 1024;
  int reps = 5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) max_threads = std::atoi(argv[++i]);
    else if (a == "--mib" && i + 1 < argc) mib = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "usage: membw [--threads T] [--mib SIZE] [--reps N] [--json]\n");
      return 2;
    }
  }
  const size_t bytes = mib << 20;
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
  if (buf == nullptr) return 1;
  for (size_t i = 0; i < bytes; i += 4096) std::memset(buf + i, static_cast<int>(i >> 12), 4096);

  if (json) std::printf("[");
  for (int t = 1; t <= max_threads; ++t) {
    sov::ThreadPool pool(t);
    std::vector<uint64_t> sums(static_cast<size_t>(t));
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      const auto start = Clock::now();
      // One slice per thread, 4 KiB aligned.
      pool.parallel_for(
          bytes / 4096,
          [&](size_t b, size_t e, int th) { sums[static_cast<size_t>(th)] += read_slice(buf + b * 4096, (e - b) * 4096); });
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      best = std::max(best, bytes / s / 1e9);
    }
    uint64_t check = 0;
    for (uint64_t s : sums) check += s;
    if (json) {
      std::printf("%s{\"threads\": %d, \"read_gbps\": %.2f}", t > 1 ? ", " : "", t, best);
    } else {
      std::printf("read bandwidth, %d thread%s: %6.2f GB/s  (best of %d over %zu MiB; checksum %llu)\n", t,
                  t > 1 ? "s" : "", best, reps, mib, static_cast<unsigned long long>(check % 1000));
    }
  }
  if (json) std::printf("]\n");
  std::free(buf);
  return 0;
}
