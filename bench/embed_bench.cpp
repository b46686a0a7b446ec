// Embedding benchmark: embeddings/s and tokens/s of EmbeddingModel::embed_tokens for
// batches of 1, 8 and 32 inputs of 256 tokens (by default), on synth-bert from the test
// data and on synthetic models with random weights shaped like real ones:
//   bge-small    bert, n_embd 384, 12 layers, 12 heads, FFN 1536
//   bert-base    bert, n_embd 768, 12 layers, 12 heads, FFN 3072 (~110M parameters)
//   nomic-embed  nomic-bert, n_embd 768, 12 layers, 12 heads, FFN 3072
//
//   embed_bench [--threads N] [--len TOKENS] [--batches 1,8,32] [--type f32|f16|q8_0|...]
//               [--models synth-bert,bge-small,bert-base,nomic-embed] [--min-time SECONDS]
//
// The vocabulary (and synth-bert itself) come from $SOV_TESTDATA or ../shared/testdata.
// Input ids are random non-special tokens. cpu-ms is the process CPU time per batch (all
// threads): on a busy machine, wall time above cpu-ms / threads means the measurement lost
// the CPU to other work. Numbers are for information only.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/encoder/embedding_model.h"
#include "engine/encoder/synthetic.h"
#include "gguf/file.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace sov;

// CPU seconds used by the whole process (all threads): compared with the wall time it shows
// how much other load on the machine took from the measurement.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

struct Options {
  int threads = 0;
  int32_t len = 256;
  std::vector<int> batches = {1, 8, 32};
  std::vector<std::string> models = {"synth-bert", "bge-small", "bert-base", "nomic-embed"};
  gguf::TensorType type = gguf::TensorType::kF32;
  double min_time = 1.0;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    out.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--threads" && has_value) {
      o->threads = std::atoi(argv[++i]);
    } else if (a == "--len" && has_value) {
      o->len = std::atoi(argv[++i]);
    } else if (a == "--min-time" && has_value) {
      o->min_time = std::atof(argv[++i]);
    } else if (a == "--batches" && has_value) {
      o->batches.clear();
      for (const std::string& b : split(argv[++i])) o->batches.push_back(std::atoi(b.c_str()));
    } else if (a == "--models" && has_value) {
      o->models = split(argv[++i]);
    } else if (a == "--type" && has_value) {
      auto t = gguf::parse_type_name(argv[++i]);
      if (!t) {
        std::fprintf(stderr, "unknown type '%s'\n", argv[i]);
        return false;
      }
      o->type = *t;
    } else {
      std::fprintf(stderr,
                   "usage: embed_bench [--threads N] [--len TOKENS] [--batches 1,8,32] [--type f32|f16|q8_0] "
                   "[--models synth-bert,bge-small,bert-base,nomic-embed] [--min-time SECONDS]\n");
      return false;
    }
  }
  return o->len > 2 && !o->batches.empty();
}

std::string testdata_dir() {
  if (const char* env = std::getenv("SOV_TESTDATA")) return env;
  return "../shared/testdata";
}

// The model and the bytes its file lives in (synthetic models are parsed from memory).
struct Bench {
  std::string name;
  std::vector<uint8_t> bytes;
  std::unique_ptr<engine::EmbeddingModel> model;
};

Bench load(const std::string& name, const Options& o, const std::shared_ptr<const gguf::File>& vocab) {
  Bench b;
  b.name = name;
  engine::EmbeddingModelParams params{.n_threads = o.threads};
  if (name == "synth-bert") {
    auto m = engine::EmbeddingModel::load(testdata_dir() + "/models/synth-bert-F32.gguf", params);
    if (!m) {
      std::fprintf(stderr, "%s\n", m.status().message().c_str());
      return b;
    }
    b.model = std::move(m).value();
    return b;
  }
  engine::SyntheticEncoderSpec spec;
  spec.vocab_from = vocab.get();
  spec.matrix_type = o.type;
  spec.n_layer = 12;
  spec.n_head = 12;
  if (name == "bge-small") {
    spec.n_embd = 384;
    spec.n_ff = 1536;
  } else if (name == "bert-base" || name == "nomic-embed") {
    spec.n_embd = 768;
    spec.n_ff = 3072;
    if (name == "nomic-embed") {
      spec.arch = "nomic-bert";
      spec.n_ctx = 2048;
    }
  } else {
    std::fprintf(stderr, "unknown model '%s'\n", name.c_str());
    return b;
  }
  auto bytes = engine::make_synthetic_encoder(spec);
  if (!bytes) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), bytes.status().message().c_str());
    return b;
  }
  b.bytes = std::move(bytes).value();
  auto file = gguf::File::parse(b.bytes);
  if (!file) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), file.status().message().c_str());
    return b;
  }
  auto m = engine::EmbeddingModel::load(std::make_shared<const gguf::File>(std::move(file).value()), params);
  if (!m) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), m.status().message().c_str());
    return b;
  }
  b.model = std::move(m).value();
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) return 2;
  auto vocab_file = gguf::File::open(testdata_dir() + "/models/synth-bert-F32.gguf");
  if (!vocab_file) {
    std::fprintf(stderr, "the vocabulary comes from synth-bert-F32.gguf: %s\n",
                 vocab_file.status().message().c_str());
    return 1;
  }
  auto vocab = std::make_shared<const gguf::File>(std::move(vocab_file).value());

  std::printf("%-12s %-5s %6s %6s %12s %12s %10s %10s\n", "model", "type", "batch", "len", "embeddings/s",
              "tokens/s", "ms/batch", "cpu-ms");
  for (const std::string& name : o.models) {
    Bench b = load(name, o, vocab);
    if (!b.model) return 1;
    engine::EmbeddingModel& m = *b.model;
    const int32_t len = std::min(o.len, m.n_ctx());
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> id(1000, 29000);  // ordinary word pieces
    for (int batch : o.batches) {
      std::vector<std::vector<int32_t>> inputs(static_cast<size_t>(batch));
      for (auto& in : inputs) {
        in.resize(static_cast<size_t>(len));
        for (auto& t : in) t = id(rng);
        in.front() = 101;  // [CLS]
        in.back() = 102;   // [SEP]
      }
      if (!m.embed_tokens(inputs).is_ok()) return 1;  // warm-up: buffers grow once
      int runs = 0;
      const auto start = Clock::now();
      const double cpu_start = cpu_seconds();
      double elapsed = 0;
      do {
        auto r = m.embed_tokens(inputs);
        if (!r) {
          std::fprintf(stderr, "%s\n", r.status().message().c_str());
          return 1;
        }
        ++runs;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      } while (elapsed < o.min_time);
      const double per_batch = elapsed / runs;
      const double cpu_per_batch = (cpu_seconds() - cpu_start) / runs;
      const std::string type = name == "synth-bert" ? "f32" : std::string(gguf::type_name(o.type));
      std::printf("%-12s %-5s %6d %6d %12.1f %12.0f %10.2f %10.2f\n", name.c_str(), type.c_str(), batch, len,
                  batch / per_batch, batch * len / per_batch, per_batch * 1e3, cpu_per_batch * 1e3);
      std::fflush(stdout);
    }
  }
  return 0;
}
