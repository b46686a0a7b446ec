// The anchor's side of bench/compare: a small llama-bench equivalent written against
// llama.cpp's public C API (llama.h), built by bench/compare against the prebuilt
// libraries of the npm package @node-llama-cpp/linux-x64 (never committed, never part of
// the Sovereign build). It measures exactly as llama-bench and `sov bench` do:
//   - pp<P>: P random tokens (BOS first when the vocab adds one) decoded from an empty
//     cache in batches of n_batch (ubatch 512); one warm-up run first;
//   - tg<N>: N single-token decodes from an empty cache; one warm-up token first;
//   - REPS repetitions; mean ± sample standard deviation of the per-run tokens/s;
// with llama-bench's defaults otherwise (F16 KV cache, flash attention auto, a ggml
// threadpool with poll 50). It prints the same JSON fields as `sov bench --json`.
//
//   anchor_bench -m FILE [-p 512] [-n 128] [-t THREADS] [-r REPS]
//
// The CPU backend variant (libggml-cpu-<variant>.so) is loaded from the directory of this
// executable, or from GGML_BACKEND_DIR when set; the one chosen is printed to stderr.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "anchor_common.h"

namespace {

using Clock = std::chrono::steady_clock;

uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

bool test_prompt(llama_context* ctx, int n_prompt, int n_batch, int n_threads) {
  llama_set_n_threads(ctx, n_threads, n_threads);
  const llama_vocab* vocab = llama_model_get_vocab(llama_get_model(ctx));
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  std::vector<llama_token> tokens(n_batch);
  for (int done = 0; done < n_prompt;) {
    const int n = std::min(n_prompt - done, n_batch);
    tokens[0] = done == 0 && llama_vocab_get_add_bos(vocab) ? llama_vocab_bos(vocab) : std::rand() % n_vocab;
    for (int i = 1; i < n; ++i) tokens[i] = std::rand() % n_vocab;
    if (llama_decode(ctx, llama_batch_get_one(tokens.data(), n)) != 0) return false;
    done += n;
  }
  llama_synchronize(ctx);
  return true;
}

bool test_gen(llama_context* ctx, int n_gen, int n_threads) {
  llama_set_n_threads(ctx, n_threads, n_threads);
  const llama_vocab* vocab = llama_model_get_vocab(llama_get_model(ctx));
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  llama_token token = llama_vocab_get_add_bos(vocab) ? llama_vocab_bos(vocab) : std::rand() % n_vocab;
  for (int i = 0; i < n_gen; ++i) {
    if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) return false;
    llama_synchronize(ctx);
    token = std::rand() % n_vocab;
  }
  return true;
}

void mean_stddev(const std::vector<double>& v, double* mean, double* sd) {
  double s = 0, q = 0;
  for (double x : v) s += x;
  *mean = v.empty() ? 0 : s / v.size();
  for (double x : v) q += (x - *mean) * (x - *mean);
  *sd = v.size() > 1 ? std::sqrt(q / (v.size() - 1)) : 0;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path;
  int n_prompt = 512, n_gen = 128, threads = 2, reps = 5, n_batch = 2048, n_ubatch = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "-m")
      model_path = argv[i + 1];
    else if (a == "-p")
      n_prompt = std::atoi(argv[i + 1]);
    else if (a == "-n")
      n_gen = std::atoi(argv[i + 1]);
    else if (a == "-t")
      threads = std::atoi(argv[i + 1]);
    else if (a == "-r")
      reps = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: anchor_bench -m FILE [-p 512] [-n 128] [-t THREADS] [-r REPS]\n");
      return 2;
    }
  }
  if (model_path.empty() || reps < 1) {
    std::fprintf(stderr, "usage: anchor_bench -m FILE [-p 512] [-n 128] [-t THREADS] [-r REPS]\n");
    return 2;
  }

  anchor::CpuBackend backend;
  if (!anchor::load_cpu_backend(&backend)) return 1;

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  const auto load_start = Clock::now();
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
  if (model == nullptr) {
    std::fprintf(stderr, "error: failed to load %s\n", model_path.c_str());
    return 1;
  }
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  char desc[256];
  llama_model_desc(model, desc, sizeof(desc));

  struct Test {
    int n_prompt, n_gen;
    std::vector<double> ts, ns;
  };
  std::vector<Test> tests;
  if (n_prompt > 0) tests.push_back({n_prompt, 0, {}, {}});
  if (n_gen > 0) tests.push_back({0, n_gen, {}, {}});

  for (Test& t : tests) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(t.n_prompt + t.n_gen);
    cp.n_batch = static_cast<uint32_t>(n_batch);
    cp.n_ubatch = static_cast<uint32_t>(n_ubatch);
    cp.type_k = GGML_TYPE_F16;
    cp.type_v = GGML_TYPE_F16;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    llama_context* ctx = llama_init_from_model(model, cp);
    if (ctx == nullptr) {
      std::fprintf(stderr, "error: failed to create a context\n");
      return 1;
    }
    ggml_threadpool* pool = backend.attach_threadpool(ctx, threads);

    llama_memory_clear(llama_get_memory(ctx), false);
    const bool warm =
        t.n_prompt > 0 ? test_prompt(ctx, t.n_prompt, n_batch, threads) : test_gen(ctx, 1, threads);
    if (!warm) {
      std::fprintf(stderr, "error: warm-up decode failed\n");
      return 1;
    }
    for (int i = 0; i < reps; ++i) {
      llama_memory_clear(llama_get_memory(ctx), false);
      const auto start = Clock::now();
      const bool ok =
          t.n_prompt > 0 ? test_prompt(ctx, t.n_prompt, n_batch, threads) : test_gen(ctx, t.n_gen, threads);
      const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
      if (!ok) {
        std::fprintf(stderr, "error: decode failed\n");
        return 1;
      }
      t.ns.push_back(ns);
      t.ts.push_back((t.n_prompt + t.n_gen) * 1e9 / ns);
    }
    llama_free(ctx);
    backend.free_threadpool(pool);
  }

  const uint64_t rss = peak_rss_bytes();
  std::printf("[\n");
  for (size_t i = 0; i < tests.size(); ++i) {
    const Test& t = tests[i];
    double avg_ts, sd_ts, avg_ns, sd_ns;
    mean_stddev(t.ts, &avg_ts, &sd_ts);
    mean_stddev(t.ns, &avg_ns, &sd_ns);
    std::string samples;
    for (double x : t.ts) samples += (samples.empty() ? "" : ", ") + std::to_string(x);
    std::printf(
        "  {\n    \"model_filename\": %s,\n    \"model_type\": %s,\n    \"model_size\": %llu,\n"
        "    \"model_n_params\": %llu,\n    \"n_batch\": %d,\n    \"n_ubatch\": %d,\n    \"n_threads\": %d,\n"
        "    \"cpu_info\": %s,\n    \"n_prompt\": %d,\n    \"n_gen\": %d,\n    \"avg_ns\": %.0f,\n"
        "    \"stddev_ns\": %.0f,\n    \"avg_ts\": %f,\n    \"stddev_ts\": %f,\n    \"samples_ts\": [%s],\n"
        "    \"load_ms\": %f,\n    \"peak_rss_bytes\": %llu\n  }%s\n",
        json_string(model_path).c_str(), json_string(desc).c_str(),
        static_cast<unsigned long long>(llama_model_size(model)),
        static_cast<unsigned long long>(llama_model_n_params(model)), n_batch, n_ubatch, threads,
        json_string(anchor::g_loaded_variant).c_str(), t.n_prompt, t.n_gen, avg_ns, sd_ns, avg_ts, sd_ts,
        samples.c_str(), load_ms, static_cast<unsigned long long>(rss), i + 1 < tests.size() ? "," : "");
  }
  std::printf("]\n");
  llama_model_free(model);
  return 0;
}
