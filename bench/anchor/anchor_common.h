// What the anchor harnesses (anchor_bench.cpp, anchor_embed.cpp) share: loading llama.cpp's
// CPU backend variant (libggml-cpu-<variant>.so) from the directory of the executable, or
// from GGML_BACKEND_DIR when set, noting which one was chosen, and llama-bench's ggml
// threadpool (poll 50) for a context. Header-only: bench/compare and bench/compare_embed
// build each harness with a single g++ command, outside CMake. Single-threaded setup code.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"

namespace anchor {

// The CPU variant ggml reports loading (its log line), e.g. ".../libggml-cpu-haswell.so".
inline std::string g_loaded_variant;

inline void log_callback(ggml_log_level level, const char* text, void*) {
  const char* hit = std::strstr(text, "loaded CPU backend from ");
  if (hit != nullptr) {
    g_loaded_variant = hit + std::strlen("loaded CPU backend from ");
    while (!g_loaded_variant.empty() && (g_loaded_variant.back() == '\n' || g_loaded_variant.back() == ' ')) {
      g_loaded_variant.pop_back();
    }
  }
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

inline std::string exe_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The CPU backend's threadpool entry points (absent in builds without them).
struct CpuBackend {
  decltype(ggml_threadpool_new)* threadpool_new = nullptr;
  decltype(ggml_threadpool_free)* threadpool_free = nullptr;

  // llama-bench's threadpool for `ctx` (nullptr when the backend has none); free it with
  // free_threadpool after llama_free(ctx).
  ggml_threadpool* attach_threadpool(llama_context* ctx, int threads) const {
    ggml_threadpool_params tpp = ggml_threadpool_params_default(threads);
    tpp.poll = 50;
    ggml_threadpool* pool = threadpool_new != nullptr ? threadpool_new(&tpp) : nullptr;
    if (pool != nullptr) llama_attach_threadpool(ctx, pool, nullptr);
    return pool;
  }
  void free_threadpool(ggml_threadpool* pool) const {
    if (pool != nullptr && threadpool_free != nullptr) threadpool_free(pool);
  }
};

// Installs the log callback, loads the backends, prints the CPU variant chosen to stderr
// and initialises llama. False (with a message on stderr) when no CPU backend loaded.
inline bool load_cpu_backend(CpuBackend* out) {
  llama_log_set(log_callback, nullptr);
  const char* env_dir = std::getenv("GGML_BACKEND_DIR");
  const std::string dir = env_dir != nullptr ? env_dir : exe_dir();
  ggml_backend_load_all_from_path(dir.c_str());
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr) {
    std::fprintf(stderr,
                 "error: no CPU backend loaded from %s (the harness must sit next to libggml-cpu-*.so "
                 "or GGML_BACKEND_DIR must point there)\n",
                 dir.c_str());
    return false;
  }
  std::fprintf(stderr, "anchor: CPU backend %s (%s)\n", g_loaded_variant.c_str(),
               ggml_backend_dev_description(cpu));
  ggml_backend_reg_t cpu_reg = ggml_backend_dev_backend_reg(cpu);
  out->threadpool_new = reinterpret_cast<decltype(ggml_threadpool_new)*>(
      ggml_backend_reg_get_proc_address(cpu_reg, "ggml_threadpool_new"));
  out->threadpool_free = reinterpret_cast<decltype(ggml_threadpool_free)*>(
      ggml_backend_reg_get_proc_address(cpu_reg, "ggml_threadpool_free"));
  llama_backend_init();
  return true;
}

}  // namespace anchor
