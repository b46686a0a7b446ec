// The anchor's side of bench/compare_embed: embeddings per second of llama.cpp, written
// against its public C API (llama.h) and built by bench/compare_embed against the prebuilt
// libraries of the npm package @node-llama-cpp/linux-x64 (never committed, never part of
// the Sovereign build). It measures what `llama-embedding` does for a list of inputs:
//   - a context with embeddings on, the model's pooling (or --pooling), n_seq_max = batch;
//   - inputs of LEN random ids (first and last ids as given, [CLS] and [SEP] by default)
//     packed into llama_decode calls of at most UBATCH tokens (n_batch = n_ubatch =
//     UBATCH, as llama-embedding sets them for non-causal models), each input its own
//     sequence, then llama_get_embeddings_seq for every input and an L2 normalisation;
//   - one warm-up batch, then REPS timed batches; embeddings/s = batch / seconds.
// Prints JSON: [{"batch", "len", "ubatch", "samples_eps": [...], "avg_eps", "cpu_ms", ...}]
// (cpu_ms: process CPU time per batch, all threads).
//
//   anchor_embed -m FILE [--len 256] [--batches 1,32] [--ubatch 2048] [-t THREADS] [-r REPS]
//                [--first 101] [--last 102] [--pooling mean|cls|last]
//
// The CPU backend variant (libggml-cpu-<variant>.so) is loaded from the directory of this
// executable, or from GGML_BACKEND_DIR when set; the one chosen is printed to stderr.
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "anchor_common.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of the whole process (all threads), to see how much other load took.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

std::vector<int> split_ints(const std::string& list) {
  std::vector<int> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(std::atoi(list.substr(start, comma - start).c_str()));
    start = comma + 1;
  }
  return out;
}

// Embeds every input once: packs whole inputs into decode calls of up to `ubatch` tokens.
bool embed_all(llama_context* ctx, const std::vector<std::vector<llama_token>>& inputs, int ubatch,
               int n_embd, llama_batch* batch, std::vector<float>* out) {
  llama_memory_t mem = llama_get_memory(ctx);
  size_t first = 0;
  while (first < inputs.size()) {
    batch->n_tokens = 0;
    size_t end = first;
    while (end < inputs.size() &&
           (end == first || batch->n_tokens + static_cast<int>(inputs[end].size()) <= ubatch)) {
      const int seq = static_cast<int>(end - first);
      for (size_t i = 0; i < inputs[end].size(); ++i) {
        const int k = batch->n_tokens++;
        batch->token[k] = inputs[end][i];
        batch->pos[k] = static_cast<llama_pos>(i);
        batch->n_seq_id[k] = 1;
        batch->seq_id[k][0] = seq;
        batch->logits[k] = 1;
      }
      ++end;
    }
    if (mem != nullptr) llama_memory_clear(mem, true);
    if (llama_decode(ctx, *batch) < 0) return false;
    for (size_t s = first; s < end; ++s) {
      const float* e = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(s - first));
      if (e == nullptr) return false;
      float* dst = out->data() + s * n_embd;
      double sum = 0;
      for (int i = 0; i < n_embd; ++i) sum += static_cast<double>(e[i]) * e[i];
      const float inv = sum > 0 ? static_cast<float>(1.0 / std::sqrt(sum)) : 0.0f;
      for (int i = 0; i < n_embd; ++i) dst[i] = e[i] * inv;
    }
    first = end;
  }
  return true;
}

const char* kUsage =
    "usage: anchor_embed -m FILE [--len 256] [--batches 1,32] [--ubatch 2048] [-t THREADS] [-r REPS] "
    "[--first 101] [--last 102] [--pooling mean|cls|last]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, pooling;
  int len = 256, threads = 2, reps = 3, ubatch = 2048, first_id = 101, last_id = 102;
  std::vector<int> batches = {1, 32};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "-m") {
      model_path = v;
    } else if (a == "--len") {
      len = std::atoi(v);
    } else if (a == "--batches") {
      batches = split_ints(v);
    } else if (a == "--ubatch") {
      ubatch = std::atoi(v);
    } else if (a == "-t") {
      threads = std::atoi(v);
    } else if (a == "-r") {
      reps = std::atoi(v);
    } else if (a == "--first") {
      first_id = std::atoi(v);
    } else if (a == "--last") {
      last_id = std::atoi(v);
    } else if (a == "--pooling") {
      pooling = v;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (model_path.empty() || reps < 1 || len < 2 || ubatch < len) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  anchor::CpuBackend backend;
  if (!anchor::load_cpu_backend(&backend)) return 1;

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
  if (model == nullptr) {
    std::fprintf(stderr, "error: failed to load %s\n", model_path.c_str());
    return 1;
  }
  const int n_embd = llama_model_n_embd(model);
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

  std::printf("[\n");
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    const int n_inputs = batches[bi];
    llama_context_params cp = llama_context_default_params();
    const int per_call = std::max(len, std::min(ubatch, n_inputs * len));
    cp.n_ctx = static_cast<uint32_t>(per_call);
    cp.n_batch = static_cast<uint32_t>(per_call);
    cp.n_ubatch = static_cast<uint32_t>(per_call);
    cp.n_seq_max = static_cast<uint32_t>(std::max(1, per_call / len));
    cp.embeddings = true;
    if (pooling == "mean") cp.pooling_type = LLAMA_POOLING_TYPE_MEAN;
    if (pooling == "cls") cp.pooling_type = LLAMA_POOLING_TYPE_CLS;
    if (pooling == "last") cp.pooling_type = LLAMA_POOLING_TYPE_LAST;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    llama_context* ctx = llama_init_from_model(model, cp);
    if (ctx == nullptr) {
      std::fprintf(stderr, "error: failed to create a context\n");
      return 1;
    }
    ggml_threadpool* pool = backend.attach_threadpool(ctx, threads);

    std::mt19937 rng(42);
    std::uniform_int_distribution<int> id(std::min(1000, n_vocab - 1), std::min(29000, n_vocab - 1));
    std::vector<std::vector<llama_token>> inputs(static_cast<size_t>(n_inputs));
    for (auto& in : inputs) {
      in.resize(static_cast<size_t>(len));
      for (auto& t : in) t = id(rng);
      in.front() = first_id;
      in.back() = last_id;
    }
    llama_batch batch = llama_batch_init(per_call, 0, 1);
    std::vector<float> out(static_cast<size_t>(n_inputs) * n_embd);
    if (!embed_all(ctx, inputs, per_call, n_embd, &batch, &out)) {
      std::fprintf(stderr, "error: warm-up embedding failed\n");
      return 1;
    }
    std::vector<double> eps;
    const double cpu_start = cpu_seconds();
    for (int r = 0; r < reps; ++r) {
      const auto start = Clock::now();
      if (!embed_all(ctx, inputs, per_call, n_embd, &batch, &out)) {
        std::fprintf(stderr, "error: embedding failed\n");
        return 1;
      }
      eps.push_back(n_inputs / std::chrono::duration<double>(Clock::now() - start).count());
    }
    const double cpu_ms = (cpu_seconds() - cpu_start) / reps * 1e3;
    double mean = 0;
    for (double x : eps) mean += x / eps.size();
    std::string samples;
    for (double x : eps) samples += (samples.empty() ? "" : ", ") + std::to_string(x);
    std::printf(
        "  {\"batch\": %d, \"len\": %d, \"ubatch\": %d, \"n_threads\": %d, \"model_size\": %llu, "
        "\"samples_eps\": [%s], \"avg_eps\": %f, \"cpu_ms\": %f}%s\n",
        n_inputs, len, per_call, threads, static_cast<unsigned long long>(llama_model_size(model)),
        samples.c_str(), mean, cpu_ms, bi + 1 < batches.size() ? "," : "");
    std::fflush(stdout);
    llama_batch_free(batch);
    llama_free(ctx);
    backend.free_threadpool(pool);
  }
  std::printf("]\n");
  llama_model_free(model);
  return 0;
}
