// Embedding benchmark: embeddings/s and tokens/s of EmbeddingModel::embed_tokens for
// batches of 1, 8 and 32 inputs of 256 tokens (by default), on synth-bert from the test
// data and on synthetic models with random weights shaped like real ones:
//   bge-small    bert, n_embd 384, 12 layers, 12 heads, FFN 1536
//   bert-base    bert, n_embd 768, 12 layers, 12 heads, FFN 3072 (~110M parameters)
//   nomic-embed  nomic-bert, n_embd 768, 12 layers, 12 heads, FFN 3072
//
//   embed_bench [--threads N] [--len TOKENS] [--batches 1,8,32] [--type f32|f16|q8_0|...]
//               [--models synth-bert,bge-small,bert-base,nomic-embed] [--min-time SECONDS]
//               [--files A.gguf,B.gguf] [--write DIR] [--json] [--n-batch TOKENS]
//
// --write DIR writes the synthetic models of --models as DIR/<model>-<TYPE>.gguf and exits
// (bench/compare_embed feeds the same files to llama.cpp); --files benchmarks GGUF files
// (any embedding model, encoder or decoder) instead of --models; --json prints one object
// per (model, batch) with every run's embeddings/s.
//
// The vocabulary (and synth-bert itself) come from $SOV_TESTDATA or ../shared/testdata.
// Input ids are random non-special tokens. cpu-ms is the process CPU time per batch (all
// threads): on a busy machine, wall time above cpu-ms / threads means the measurement lost
// the CPU to other work. Numbers are for information only.
#include <algorithm>
#include <cctype>
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
  std::vector<std::string> files;
  std::string write_dir;
  bool json = false;
  int32_t n_batch = 2048;  // tokens per forward pass (the server uses max(512, its n_batch))
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
    } else if (a == "--files" && has_value) {
      o->files = split(argv[++i]);
    } else if (a == "--write" && has_value) {
      o->write_dir = argv[++i];
    } else if (a == "--n-batch" && has_value) {
      o->n_batch = std::atoi(argv[++i]);
    } else if (a == "--json") {
      o->json = true;
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
                   "[--models synth-bert,bge-small,bert-base,nomic-embed] [--min-time SECONDS] "
                   "[--files A.gguf,B.gguf] [--write DIR] [--json]\n");
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

Bench load_file(const std::string& path, const Options& o) {
  Bench b;
  b.name = path.substr(path.rfind('/') + 1);
  if (b.name.size() > 5 && b.name.ends_with(".gguf")) b.name.resize(b.name.size() - 5);
  auto m = engine::EmbeddingModel::load(path, {.n_threads = o.threads, .n_batch = o.n_batch});
  if (!m) {
    std::fprintf(stderr, "%s\n", m.status().message().c_str());
    return b;
  }
  b.model = std::move(m).value();
  return b;
}

// The GGUF bytes of a synthetic model; empty (after a message) for an unknown name.
std::vector<uint8_t> synthetic_bytes(const std::string& name, const Options& o, const gguf::File& vocab) {
  engine::SyntheticEncoderSpec spec;
  spec.vocab_from = &vocab;
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
    return {};
  }
  auto bytes = engine::make_synthetic_encoder(spec);
  if (!bytes) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), bytes.status().message().c_str());
    return {};
  }
  return std::move(bytes).value();
}

Bench load(const std::string& name, const Options& o, const std::shared_ptr<const gguf::File>& vocab) {
  if (name == "synth-bert") return load_file(testdata_dir() + "/models/synth-bert-F32.gguf", o);
  Bench b;
  b.name = name;
  engine::EmbeddingModelParams params{.n_threads = o.threads, .n_batch = o.n_batch};
  b.bytes = synthetic_bytes(name, o, *vocab);
  if (b.bytes.empty()) return b;
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

  if (!o.write_dir.empty()) {
    for (const std::string& name : o.models) {
      const std::vector<uint8_t> bytes = synthetic_bytes(name, o, *vocab);
      if (bytes.empty()) return 1;
      std::string type(gguf::type_name(o.type));
      for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string path = o.write_dir + "/" + name + "-" + type + ".gguf";
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
          std::fclose(f) != 0) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        return 1;
      }
      std::printf("%s\n", path.c_str());
    }
    return 0;
  }

  if (o.json) {
    std::printf("[\n");
  } else {
    std::printf("%-12s %-5s %6s %6s %12s %12s %10s %10s\n", "model", "type", "batch", "len", "embeddings/s",
                "tokens/s", "ms/batch", "cpu-ms");
  }
  const std::vector<std::string>& names = o.files.empty() ? o.models : o.files;
  bool first_row = true;
  for (const std::string& name : names) {
    Bench b = o.files.empty() ? load(name, o, vocab) : load_file(name, o);
    if (!b.model) return 1;
    engine::EmbeddingModel& m = *b.model;
    const int32_t len = std::min(o.len, m.n_ctx());
    std::mt19937 rng(42);
    // Ordinary word pieces (ids 1000..29000 of a BERT vocab), framed by the special tokens
    // the tokenizer adds around a text ([CLS] ... [SEP], or BOS ...).
    const int32_t n_vocab = m.tokenizer().n_vocab();
    std::uniform_int_distribution<int32_t> id(std::min(1000, n_vocab - 1), std::min(29000, n_vocab - 1));
    const std::vector<int32_t> frame = m.tokenize("");
    for (int batch : o.batches) {
      std::vector<std::vector<int32_t>> inputs(static_cast<size_t>(batch));
      for (auto& in : inputs) {
        in.resize(static_cast<size_t>(len));
        for (auto& t : in) t = id(rng);
        if (!frame.empty()) in.front() = frame.front();
        if (frame.size() > 1) in.back() = frame.back();
      }
      if (!m.embed_tokens(inputs).is_ok()) return 1;  // warm-up: buffers grow once
      int runs = 0;
      const auto start = Clock::now();
      const double cpu_start = cpu_seconds();
      double elapsed = 0;
      std::string samples;
      do {
        const auto run_start = Clock::now();
        auto r = m.embed_tokens(inputs);
        if (!r) {
          std::fprintf(stderr, "%s\n", r.status().message().c_str());
          return 1;
        }
        const auto now = Clock::now();
        samples += (samples.empty() ? "" : ", ") +
                   std::to_string(batch / std::chrono::duration<double>(now - run_start).count());
        ++runs;
        elapsed = std::chrono::duration<double>(now - start).count();
      } while (elapsed < o.min_time || runs < 2);
      const double per_batch = elapsed / runs;
      const double cpu_per_batch = (cpu_seconds() - cpu_start) / runs;
      if (o.json) {
        std::printf(
            "%s  {\"model\": \"%s\", \"arch\": \"%s\", \"batch\": %d, \"len\": %d, \"samples_eps\": [%s], "
            "\"avg_eps\": %f, \"cpu_ms\": %f}",
            first_row ? "" : ",\n", b.name.c_str(), m.arch().c_str(), batch, len, samples.c_str(),
            batch / per_batch, cpu_per_batch * 1e3);
        first_row = false;
        std::fflush(stdout);
        continue;
      }
      const std::string type =
          !o.files.empty() || name == "synth-bert" ? "file" : std::string(gguf::type_name(o.type));
      std::printf("%-12s %-5s %6d %6d %12.1f %12.0f %10.2f %10.2f\n", name.c_str(), type.c_str(), batch, len,
                  batch / per_batch, batch * len / per_batch, per_batch * 1e3, cpu_per_batch * 1e3);
      std::fflush(stdout);
    }
  }
  if (o.json) std::printf("\n]\n");
  return 0;
}
