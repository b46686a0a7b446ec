// Memory read bandwidth: the bound on generation speed (every weight byte is read once per
// token). Sums a buffer much larger than the caches with 1..T threads, each thread reading
// its own chunks (claimed as the matrix kernels claim rows), with and without software
// prefetch, and reports the best of REPS runs.
//
//   membw [--threads T] [--mib SIZE] [--reps N] [--json] [--file PATH]
//
// With --file, the buffer is a read-only mapping of PATH (as model weights are mapped)
// instead of anonymous memory, to see what 4 KiB page-cache pages cost against huge pages.
//
// Numbers are for information only; nothing here is a test.
#include <fcntl.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/thread_pool.h"

// GCC 12's AVX-512 headers trip -Wuninitialized falsely.
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace {

using Clock = std::chrono::steady_clock;

// Sums 32-byte words; several independent accumulators keep the loads in flight. With
// kPrefetch, software prefetch 2 KiB ahead (what the matrix-vector kernels can do too).
template <bool kPrefetch>
__attribute__((target("avx2"))) uint64_t read_slice(const uint8_t* p, size_t bytes) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 128 <= bytes; i += 128) {
    if constexpr (kPrefetch) {
      _mm_prefetch(reinterpret_cast<const char*>(p + i + 2048), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p + i + 2048 + 64), _MM_HINT_T0);
    }
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

// 64-byte loads, 8 cache lines per iteration, as the AVX-512 kernels read weights.
__attribute__((target("avx512f"))) uint64_t read_slice_512(const uint8_t* p, size_t bytes) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 512 <= bytes; i += 512) {
    a0 = _mm512_add_epi64(a0, _mm512_add_epi64(_mm512_load_si512(p + i), _mm512_load_si512(p + i + 64)));
    a1 = _mm512_add_epi64(a1,
                          _mm512_add_epi64(_mm512_load_si512(p + i + 128), _mm512_load_si512(p + i + 192)));
    a2 = _mm512_add_epi64(a2,
                          _mm512_add_epi64(_mm512_load_si512(p + i + 256), _mm512_load_si512(p + i + 320)));
    a3 = _mm512_add_epi64(a3,
                          _mm512_add_epi64(_mm512_load_si512(p + i + 384), _mm512_load_si512(p + i + 448)));
  }
  return static_cast<uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
}

bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

}  // namespace

int main(int argc, char** argv) {
  int max_threads = sov::physical_cores();
  size_t mib = 1024;
  int reps = 9;
  bool json = false;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      max_threads = std::atoi(argv[++i]);
    else if (a == "--mib" && i + 1 < argc)
      mib = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (a == "--json")
      json = true;
    else if (a == "--file" && i + 1 < argc)
      file = argv[++i];
    else {
      std::fprintf(stderr, "usage: membw [--threads T] [--mib SIZE] [--reps N] [--json]\n");
      return 2;
    }
  }
  size_t bytes = mib << 20;
  uint8_t* buf = nullptr;
  if (!file.empty()) {
    const int fd = open(file.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
      std::fprintf(stderr, "cannot open %s\n", file.c_str());
      return 1;
    }
    bytes = std::min<size_t>(bytes, static_cast<size_t>(st.st_size)) / 4096 * 4096;
    void* p = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 1;
    buf = static_cast<uint8_t*>(p);
  } else {
    buf = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
    if (buf == nullptr) return 1;
    for (size_t i = 0; i < bytes; i += 4096) std::memset(buf + i, static_cast<int>(i >> 12), 4096);
  }

  if (json) std::printf("[");
  for (int t = 1; t <= max_threads; ++t) {
    sov::ThreadPool pool(t);
    std::vector<uint64_t> sums(static_cast<size_t>(t));
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      const auto start = Clock::now();
      // One slice per thread, 4 KiB aligned.
      // Rotate through 32-byte loads, 32-byte loads with prefetch and 64-byte loads; the best
      // of them is the bound.
      const int kind = r % (has_avx512() ? 3 : 2);
      pool.parallel_for(bytes / 4096, [&](size_t b, size_t e, int th) {
        const uint8_t* p = buf + b * 4096;
        const size_t len = (e - b) * 4096;
        sums[static_cast<size_t>(th)] += kind == 0   ? read_slice<false>(p, len)
                                         : kind == 1 ? read_slice<true>(p, len)
                                                     : read_slice_512(p, len);
      });
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
  if (file.empty()) std::free(buf);
  return 0;
}
