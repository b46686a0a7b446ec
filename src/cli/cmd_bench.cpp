// `sov bench -m FILE [-p 512] [-n 128] [-t THREADS] [-r REPS] [-b BATCH] [-s SEQUENCES]
// [--kv-cache-type f16|f32] [--json]`: measures
// prompt processing and generation speed the way llama-bench does, so the numbers of the
// two can be put side by side:
//   - pp<P>: P random tokens (BOS first when the vocab adds one) decoded from an empty cache
//     in micro-batches of BATCH tokens; one warm-up run first.
//   - tg<N>: N single-token decodes from an empty cache, each with a random token; one
//     warm-up token first. With SEQUENCES > 1 (test tg<N>x<S>), S sequences generate together
//     as the server's continuous batching runs them: N steps of one forward pass over one
//     token of each, logits for all; tokens/s counts every sequence's tokens.
// Each test runs REPS times; the table shows tokens/s as mean ± standard deviation of the
// per-run rates, then the load time, the peak resident set size of the process and its
// budget's parts (file, KV cache, repacked weights). With --json it prints a JSON array with
// one object per test using llama-bench's field names (plus load_ms, peak_rss_bytes,
// kv_cache_bytes, repacked_bytes) instead. The KV cache is F16 by default, as llama-bench's
// and the server's.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "cli/command.h"
#include "cli/model_arg.h"
#include "engine/context.h"
#include "kernels/isa.h"
#include "quant/model_quantize.h"

namespace sov::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int32_t n_prompt = 512;
  int32_t n_gen = 128;
  int threads = 0;
  int reps = 5;
  int32_t n_batch = 256;  // tokens per forward pass (llama-bench's n_ubatch)
  int32_t n_seq = 1;      // sequences generating together in the tg test
  std::string kv_cache_type = "f16";
  bool json = false;
};

struct TestResult {
  int32_t n_prompt = 0;
  int32_t n_gen = 0;
  std::vector<uint64_t> ns;  // one per repetition
  std::vector<double> ts;    // tokens per second per repetition
  double avg_ts = 0, stddev_ts = 0, avg_ns = 0, stddev_ns = 0;
};

// Peak resident set size of this process in bytes (VmHWM), or 0 when unknown.
uint64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) == 0) return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  return 0;
}

template <typename T>
void mean_stddev(const std::vector<T>& v, double* mean, double* stddev) {
  double s = 0;
  for (T x : v) s += static_cast<double>(x);
  *mean = v.empty() ? 0 : s / v.size();
  double q = 0;
  for (T x : v) q += (static_cast<double>(x) - *mean) * (static_cast<double>(x) - *mean);
  // Sample standard deviation, as llama-bench reports it.
  *stddev = v.size() > 1 ? std::sqrt(q / (v.size() - 1)) : 0.0;
}

struct Bench {
  engine::Context& ctx;
  int32_t n_vocab;
  int32_t bos;  // -1: the vocab adds none
  int32_t n_batch;
  int32_t n_seq;
  std::mt19937 rng{1234};

  void reset() {
    for (int32_t seq = 0; seq < n_seq; ++seq) ctx.truncate(seq, 0);
  }

  int32_t random_token() { return static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab)); }

  Status prompt(int32_t n) {
    std::vector<int32_t> tokens(n);
    for (auto& t : tokens) t = random_token();
    if (bos >= 0 && n > 0) tokens[0] = bos;
    for (int32_t done = 0; done < n; done += n_batch) {
      const int32_t chunk = std::min(n_batch, n - done);
      SOV_RETURN_IF_ERROR(ctx.decode(std::span<const int32_t>(tokens.data() + done, chunk)));
    }
    return Status::ok();
  }

  Status generate(int32_t n) {
    int32_t token = bos >= 0 ? bos : random_token();
    if (n_seq == 1) {
      for (int32_t i = 0; i < n; ++i) {
        SOV_RETURN_IF_ERROR(ctx.decode(std::span<const int32_t>(&token, 1)));
        token = random_token();
      }
      return Status::ok();
    }
    std::vector<engine::BatchToken> batch(static_cast<size_t>(n_seq));
    for (int32_t seq = 0; seq < n_seq; ++seq) batch[seq] = {seq, token, true};
    for (int32_t i = 0; i < n; ++i) {
      SOV_RETURN_IF_ERROR(ctx.decode_batch(batch));
      for (auto& b : batch) b.token = random_token();
    }
    return Status::ok();
  }
};

std::string size_label(uint64_t n_params) {
  if (n_params >= 1'000'000'000ull) return fmt::format("{:.1f}B", n_params / 1e9);
  if (n_params >= 1'000'000ull) return fmt::format("{:.0f}M", n_params / 1e6);
  return fmt::format("{:.0f}K", n_params / 1e3);
}

int run_bench(const BenchOptions& o) {
  if (o.n_prompt < 0 || o.n_gen < 0 || (o.n_prompt == 0 && o.n_gen == 0)) {
    return fail("nothing to measure: give -p and/or -n a positive number of tokens");
  }
  if (o.reps < 1) return fail("-r must be at least 1");
  if (o.n_batch < 1) return fail("-b must be at least 1");
  if (o.n_seq < 1 || o.n_seq > 256) return fail("-s must be 1..256");

  const auto load_start = Clock::now();
  auto model_path = model_file(o.model);  // a .gguf path or a store name
  if (!model_path) return fail(model_path.status().message());
  auto model = engine::Model::load(*model_path);
  if (!model) return fail(model.status().message());
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  const engine::HParams& hp = (*model)->hparams();
  const gguf::File& file = (*model)->file();

  uint64_t n_params = 0, model_bytes = 0;
  for (const auto& t : file.tensors()) {
    n_params += static_cast<uint64_t>(t.info.n_elements());
    model_bytes += t.info.n_bytes;
  }
  // The file type as llama-quantize named it, else the type holding most of the bytes.
  std::string ftype;
  if (auto ft = file.get_int("general.file_type")) {
    ftype = std::string(quant::file_type_name(static_cast<quant::FileType>(*ft)));
  } else {
    std::map<gguf::TensorType, uint64_t> bytes_by_type;
    for (const auto& t : file.tensors()) bytes_by_type[t.info.type] += t.info.n_bytes;
    uint64_t most = 0;
    for (const auto& [type, bytes] : bytes_by_type) {
      if (bytes > most) most = bytes, ftype = std::string(gguf::type_name(type));
    }
  }
  const std::string model_type = fmt::format("{} {} {}", hp.arch, size_label(n_params), ftype);
  int32_t bos = -1;
  if (auto add = file.get_bool("tokenizer.ggml.add_bos_token"); !add || *add) {
    if (auto id = file.get_int("tokenizer.ggml.bos_token_id"); id && *id >= 0 && *id < hp.n_vocab) {
      bos = static_cast<int32_t>(*id);
    }
  }

  const int threads = o.threads > 0 ? o.threads : physical_cores();
  const int32_t n_ctx = std::max<int32_t>(16, std::max(o.n_prompt, o.n_gen));
  const auto kv_type = engine::parse_kv_type(o.kv_cache_type);
  if (!kv_type) return fail(kv_type.status().with_context("--kv-cache-type").message());
  auto ctx = engine::Context::create(*model, {.n_ctx = n_ctx,
                                              .n_batch = std::max(o.n_batch, o.n_seq),
                                              .n_threads = threads,
                                              .n_seq = o.n_seq,
                                              .kv_type = *kv_type});
  if (!ctx) return fail(ctx.status().message());
  Bench bench{**ctx, hp.n_vocab, bos, o.n_batch, o.n_seq};

  std::vector<TestResult> results;
  if (o.n_prompt > 0) results.emplace_back().n_prompt = o.n_prompt;
  if (o.n_gen > 0) results.emplace_back().n_gen = o.n_gen;
  for (TestResult& r : results) {
    // Warm-up: one run of the prompt test, or one generated token.
    bench.reset();
    Status s = r.n_prompt > 0 ? bench.prompt(r.n_prompt) : bench.generate(1);
    if (!s) return fail(s.message());
    for (int rep = 0; rep < o.reps; ++rep) {
      bench.reset();
      const auto start = Clock::now();
      s = r.n_prompt > 0 ? bench.prompt(r.n_prompt) : bench.generate(r.n_gen);
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
      if (!s) return fail(s.message());
      r.ns.push_back(static_cast<uint64_t>(ns));
      const int64_t tokens = r.n_prompt + static_cast<int64_t>(r.n_gen) * o.n_seq;
      r.ts.push_back(static_cast<double>(tokens) * 1e9 / static_cast<double>(ns));
    }
    mean_stddev(r.ts, &r.avg_ts, &r.stddev_ts);
    mean_stddev(r.ns, &r.avg_ns, &r.stddev_ns);
  }
  const uint64_t rss = peak_rss_bytes();
  // The peak RSS budget: file + KV cache (+ the repacked copy, whose originals are released).
  const uint64_t kv_bytes = (*ctx)->kv_cache_bytes();
  const uint64_t packed_bytes = (*model)->packed_bytes();
  const std::string isa(kernels::isa_name(kernels::active_isa()));

  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const TestResult& r : results) {
      out.push_back({{"model_filename", o.model},
                     {"model_type", model_type},
                     {"model_size", model_bytes},
                     {"model_n_params", n_params},
                     {"n_batch", o.n_batch},
                     {"n_ubatch", o.n_batch},
                     {"n_threads", threads},
                     {"type_k", engine::kv_type_name(*kv_type)},
                     {"type_v", engine::kv_type_name(*kv_type)},
                     {"cpu_info", isa},
                     {"n_prompt", r.n_prompt},
                     {"n_gen", r.n_gen},
                     {"n_sequences", r.n_gen > 0 ? o.n_seq : 1},
                     {"avg_ns", static_cast<uint64_t>(r.avg_ns)},
                     {"stddev_ns", static_cast<uint64_t>(r.stddev_ns)},
                     {"avg_ts", r.avg_ts},
                     {"stddev_ts", r.stddev_ts},
                     {"samples_ns", r.ns},
                     {"samples_ts", r.ts},
                     {"load_ms", load_ms},
                     {"peak_rss_bytes", rss},
                     {"kv_cache_bytes", kv_bytes},
                     {"repacked_bytes", packed_bytes}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }

  std::printf("| %-30s | %10s | %8s | %-10s | %7s | %10s | %20s |\n", "model", "size", "params", "backend",
              "threads", "test", "t/s");
  std::printf("| %s | %s:| %s:| %s | %s:| %s:| %s:|\n", std::string(30, '-').c_str(),
              std::string(10, '-').c_str(), std::string(8, '-').c_str(), std::string(10, '-').c_str(),
              std::string(7, '-').c_str(), std::string(10, '-').c_str(), std::string(20, '-').c_str());
  for (const TestResult& r : results) {
    std::string test = r.n_prompt > 0 ? fmt::format("pp{}", r.n_prompt) : fmt::format("tg{}", r.n_gen);
    if (r.n_gen > 0 && o.n_seq > 1) test += fmt::format("x{}", o.n_seq);
    std::printf("| %-30s | %6.2f MiB | %8s | %-10s | %7d | %10s | %20s |\n", model_type.c_str(),
                model_bytes / (1024.0 * 1024.0), size_label(n_params).c_str(), ("CPU " + isa).c_str(),
                threads, test.c_str(), fmt::format("{:.2f} ± {:.2f}", r.avg_ts, r.stddev_ts).c_str());
  }
  constexpr double kMiB = 1024.0 * 1024.0;
  std::printf(
      "\nload %.0f ms | peak RSS %.2f MiB (model file %.2f MiB, KV cache %.2f MiB, repacked %.2f MiB)\n",
      load_ms, rss / kMiB, file.file_size() / kMiB, kv_bytes / kMiB, packed_bytes / kMiB);
  return 0;
}

SOV_REGISTER_COMMAND(
    bench,
    Command{"bench", "Measure prompt and generation speed (like llama-bench)",
            [](CLI::App& sub) -> std::function<int()> {
              auto o = std::make_shared<BenchOptions>();
              sub.add_option("-m,--model", o->model, "GGUF file or model name from the store")->required();
              sub.add_option("-p,--n-prompt", o->n_prompt, "prompt tokens (0: skip)")->capture_default_str();
              sub.add_option("-n,--n-gen", o->n_gen, "generated tokens (0: skip)")->capture_default_str();
              sub.add_option("-t,--threads", o->threads, "threads (default: physical cores)");
              sub.add_option("-r,--repetitions", o->reps, "repetitions of each test")->capture_default_str();
              sub.add_option("-b,--batch-size", o->n_batch, "prompt micro-batch size")->capture_default_str();
              sub.add_option("-s,--sequences", o->n_seq,
                             "sequences generating together in the tg test (as the server batches them)")
                  ->capture_default_str();
              sub.add_option("--kv-cache-type", o->kv_cache_type, "KV cache element type, f16 or f32")
                  ->capture_default_str();
              sub.add_flag("--json", o->json, "print a JSON array (llama-bench field names)");
              return [o] { return run_bench(*o); };
            }});

}  // namespace
}  // namespace sov::cli
