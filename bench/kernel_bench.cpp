// Kernel benchmark: matmul throughput per weight type for a 2048 x 2048 weight at n_tokens 1
// (decode) and 128 (prompt): the row-major kernels of the best ISA of this CPU, the packed
// (interleaved, kernels/packed.h) kernels where the type has them, and with --scalar the
// scalar reference.
//
//   kernel_bench [--threads N] [--min-time SECONDS] [--types q4_0,q8_0,...] [--n-in N --n-out N]
//                [--tokens 1,128] [--scalar] [--cpu-time]
//
// --cpu-time measures the process CPU time divided by the thread count instead of wall
// time: on a machine shared with other jobs this estimates what the kernels do when they
// have the cores (cache interference from the other jobs remains).
//
// Prints GFLOP/s (2 * n_in * n_out * n_tokens per call) and the weight bytes streamed per
// second (GB/s). Numbers are for information only; nothing here is a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/packed.h"
#include "quant/quant.h"

namespace {

using sov::gguf::TensorType;
using Clock = std::chrono::steady_clock;

struct Options {
  int threads = 0;  // physical cores
  double min_time = 0.5;
  int64_t n_in = 2048, n_out = 2048;
  std::vector<int64_t> tokens = {1, 128};
  bool scalar = false;
  bool cpu_time = false;
  std::vector<TensorType> types = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ8_0,
                                   TensorType::kQ6_K, TensorType::kQ5_K, TensorType::kQ5_1, TensorType::kQ5_0,
                                   TensorType::kQ4_K, TensorType::kQ4_1, TensorType::kQ4_0, TensorType::kQ3_K,
                                   TensorType::kQ2_K};
};

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--threads" && has_value) {
      o->threads = std::atoi(argv[++i]);
    } else if (a == "--min-time" && has_value) {
      o->min_time = std::atof(argv[++i]);
    } else if (a == "--n-in" && has_value) {
      o->n_in = std::atoll(argv[++i]);
    } else if (a == "--n-out" && has_value) {
      o->n_out = std::atoll(argv[++i]);
    } else if (a == "--cpu-time") {
      o->cpu_time = true;
    } else if (a == "--scalar") {
      o->scalar = true;
    } else if (a == "--tokens" && has_value) {
      o->tokens.clear();
      for (const char* p = argv[++i]; *p != '\0';) {
        char* end = nullptr;
        o->tokens.push_back(std::strtoll(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (o->tokens.back() <= 0) return false;
      }
    } else if (a == "--types" && has_value) {
      o->types.clear();
      std::string list = argv[++i];
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = list.find(',', start);
        const std::string name =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto t = sov::gguf::parse_type_name(name);
        if (!t || !sov::kernels::supports(*t)) {
          std::fprintf(stderr, "unknown or unsupported type '%s'\n", name.c_str());
          return false;
        }
        o->types.push_back(*t);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--threads N] [--min-time S] [--types a,b] [--n-in N] [--n-out N]\n",
                   argv[0]);
      return false;
    }
  }
  return true;
}

// Seconds per call: the best of 5 runs of at least min_time / 5 each, after a warm-up call.
// The best run is the one least disturbed by other processes on the machine.
bool g_cpu_time = false;

double now_seconds(int threads) {
  if (!g_cpu_time) return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9) / threads;
}

double time_matmul(const sov::kernels::WeightView& w, const std::vector<float>& x, int64_t n_tokens,
                   std::vector<float>* y, sov::kernels::Scratch* scratch, sov::ThreadPool* pool,
                   double min_time) {
  sov::kernels::matmul(w, x.data(), n_tokens, y->data(), scratch, pool);
  double best = 1e30;
  for (int run = 0; run < 5; ++run) {
    int64_t calls = 0;
    const double start = now_seconds(pool->size());
    double elapsed = 0;
    do {
      sov::kernels::matmul(w, x.data(), n_tokens, y->data(), scratch, pool);
      ++calls;
      elapsed = now_seconds(pool->size()) - start;
    } while (elapsed < min_time / 5);
    best = std::min(best, elapsed / static_cast<double>(calls));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, &opt)) return 2;
  g_cpu_time = opt.cpu_time;
  sov::ThreadPool pool(opt.threads);
  const sov::kernels::Isa best = sov::kernels::best_isa();
  std::printf("kernel_bench: %lld x %lld weights, %d threads, best ISA %s\n",
              static_cast<long long>(opt.n_out), static_cast<long long>(opt.n_in), pool.size(),
              std::string(sov::kernels::isa_name(best)).c_str());
  std::printf("%-6s %6s | %10s %8s | %10s %8s | %10s %8s\n", "type", "tokens", "scalar", "", "row-major", "",
              "packed", "");
  std::printf("%-6s %6s | %10s %8s | %10s %8s | %10s %8s\n", "", "", "GFLOP/s", "GB/s", "GFLOP/s", "GB/s",
              "GFLOP/s", "GB/s");

  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> wf(opt.n_in * opt.n_out);
  for (auto& v : wf) v = dist(rng);

  for (TensorType t : opt.types) {
    const auto rb = sov::gguf::row_bytes(t, opt.n_in);
    if (!rb) {
      std::printf("%-6s skipped: n_in %lld is not a multiple of its block size\n",
                  std::string(sov::gguf::type_name(t)).c_str(), static_cast<long long>(opt.n_in));
      continue;
    }
    std::vector<uint8_t> wq(*rb * opt.n_out);
    for (int64_t o = 0; o < opt.n_out; ++o) {
      if (!sov::quant::quantize_row(t, wf.data() + o * opt.n_in, wq.data() + o * *rb, opt.n_in).is_ok())
        return 1;
    }
    const sov::kernels::WeightView w{t, wq.data(), opt.n_in, opt.n_out, *rb};
    sov::kernels::PackedBuffer packed;
    sov::kernels::WeightView pw = w;
    if (sov::kernels::packable(w)) {
      auto buf = sov::kernels::PackedBuffer::allocate(sov::kernels::packed_size(w));
      if (!buf) return 1;
      packed = std::move(buf).value();
      sov::kernels::pack(w, packed.data(), &pool);
      pw.packed = packed.data();
    }
    for (int64_t n_tokens : opt.tokens) {
      std::vector<float> x(opt.n_in * n_tokens);
      for (auto& v : x) v = dist(rng) * 50.0f;
      std::vector<float> y(opt.n_out * n_tokens);
      sov::kernels::Scratch scratch;
      const double flop = 2.0 * double(opt.n_in) * double(opt.n_out) * double(n_tokens);
      const double bytes = double(wq.size());
      auto cell = [&](double secs) {
        if (secs <= 0) return std::string(" ") + std::string(10, ' ') + " " + std::string(8, ' ');
        char buf[64];
        std::snprintf(buf, sizeof buf, " %10.2f %8.2f", flop / secs * 1e-9, bytes / secs * 1e-9);
        return std::string(buf);
      };
      double scalar = 0, row_major = 0, pk = 0;
      if (opt.scalar) {
        sov::kernels::set_isa(sov::kernels::Isa::kScalar);
        scalar = time_matmul(w, x, n_tokens, &y, &scratch, &pool, opt.min_time / 2);
      }
      sov::kernels::set_isa(best);
      row_major = time_matmul(w, x, n_tokens, &y, &scratch, &pool, opt.min_time);
      if (pw.packed != nullptr) pk = time_matmul(pw, x, n_tokens, &y, &scratch, &pool, opt.min_time);
      std::printf("%-6s %6lld |%s |%s |%s\n", std::string(sov::gguf::type_name(t)).c_str(),
                  static_cast<long long>(n_tokens), cell(scalar).c_str(), cell(row_major).c_str(),
                  cell(pk).c_str());
      std::fflush(stdout);
    }
  }
  sov::kernels::set_isa(best);
  return 0;
}
