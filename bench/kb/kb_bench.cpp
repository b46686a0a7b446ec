// Knowledge-base benchmark: ingest throughput on a generated corpus (with and without an
// embedding model), query latency p50/p99 for keyword, vector and hybrid search at several
// base sizes, and HNSW recall@10 against exact search.
//
//   kb_bench [--embed-model FILE] [--sizes 10000,100000] [--files 2000] [--queries 200]
//            [--vectors clustered|random] [--dim 384]
//
// Query latency excludes the query embedding (the vectors are synthetic, given to search()
// by a fixed embedder), as the target in the issue does. Vectors are "clustered" by default:
// each document's chunks lie around one of n/50 topic directions (cosine ~0.8 to it), as
// real embeddings cluster; "random" gives uniform random directions, HNSW's worst case.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kb/indexer.h"
#include "kb/knowledge_base.h"
#include "kb/retrieve.h"

namespace {

using namespace sov;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::vector<std::string> make_vocabulary(std::mt19937& rng, size_t n) {
  std::vector<std::string> words;
  std::uniform_int_distribution<int> len(3, 10), letter(0, 25);
  std::set<std::string> seen;
  while (words.size() < n) {
    std::string w;
    for (int i = len(rng); i > 0; --i) w += static_cast<char>('a' + letter(rng));
    if (seen.insert(w).second) words.push_back(w);
  }
  return words;
}

// Zipf-like word choice, as in real text.
std::string sentence(std::mt19937& rng, const std::vector<std::string>& vocab, int words) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string s;
  for (int i = 0; i < words; ++i) {
    size_t idx = static_cast<size_t>(std::pow(u(rng), 3.0) * static_cast<double>(vocab.size()));
    if (!s.empty()) s += ' ';
    s += vocab[std::min(idx, vocab.size() - 1)];
  }
  return s;
}

std::vector<float> random_unit(std::mt19937& rng, int dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(static_cast<size_t>(dim));
  float n = 0;
  for (float& x : v) {
    x = g(rng);
    n += x * x;
  }
  for (float& x : v) x /= std::sqrt(n);
  return v;
}

// Hands out a preset query vector: measures search, not the model.
class FixedEmbedder final : public kb::Embedder {
 public:
  explicit FixedEmbedder(int dim) : dim_(dim) {}
  int32_t dim() const override { return dim_; }
  int32_t context() const override { return 512; }
  int32_t count_tokens(std::string_view t) const override { return kb::estimate_tokens(t); }
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) override {
    return std::vector<std::vector<float>>(texts.size(), next);
  }
  std::vector<float> next;

 private:
  int dim_;
};

struct Percentiles {
  double p50, p99;
};
Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  return {at(0.50), at(0.99)};
}

void bench_ingest(const std::string& dir, const std::string& embed_model, int files) {
  std::mt19937 rng(1);
  auto vocab = make_vocabulary(rng, 20000);
  const std::string corpus = dir + "/corpus";
  uint64_t bytes = 0;
  for (int i = 0; i < files; ++i) {
    std::string text = "# Document " + std::to_string(i) + "\n\n";
    for (int p = 0; p < 12; ++p) {
      if (p % 4 == 0) text += "## Section " + std::to_string(p / 4) + "\n\n";
      text += sentence(rng, vocab, 60) + ".\n\n";
    }
    std::filesystem::create_directories(corpus + "/d" + std::to_string(i % 20));
    std::ofstream(corpus + "/d" + std::to_string(i % 20) + "/f" + std::to_string(i) + ".md") << text;
    bytes += text.size();
  }
  std::printf("## Ingest (%d Markdown files, %.1f MB)\n\n", files, static_cast<double>(bytes) / 1e6);
  std::printf("| embedding | files | MB/s | chunks/s | chunks |\n|---|---:|---:|---:|---:|\n");
  auto run = [&](const std::string& model, int n_files) {
    std::string kbdir = dir + "/ingest_" + std::to_string(n_files) + (model.empty() ? "_kw" : "_emb");
    auto base = kb::KnowledgeBase::create(kbdir, {.embed_model = model});
    if (!base) return;
    std::unique_ptr<kb::Embedder> e;
    if (!model.empty()) {
      auto loaded = kb::load_embedder(model, [](const std::string&) { return std::optional<std::string>(); });
      if (!loaded) {
        std::printf("| %s | failed: %s |\n", model.c_str(), loaded.status().message().c_str());
        return;
      }
      e = std::move(loaded).value();
      (void)(*base)->set_embed_model(model, e->dim());
    }
    // The first n_files files (sorted walk order is by folder, so list them explicitly).
    std::vector<std::string> paths;
    for (int i = 0; i < n_files; ++i)
      paths.push_back(corpus + "/d" + std::to_string(i % 20) + "/f" + std::to_string(i) + ".md");
    auto t0 = Clock::now();
    auto s = kb::add_paths(**base, paths, e.get());
    double secs = ms_since(t0) / 1e3;
    if (!s) {
      std::printf("| failed: %s |\n", s.status().message().c_str());
      return;
    }
    std::printf("| %s | %d | %.2f | %.0f | %lld |\n",
                model.empty() ? "none (keyword only)" : std::filesystem::path(model).filename().c_str(),
                n_files, static_cast<double>(s->bytes) / 1e6 / secs, static_cast<double>(s->chunks) / secs,
                static_cast<long long>(s->chunks));
  };
  run("", files);
  if (!embed_model.empty()) run(embed_model, std::max(1, files / 10));
  std::printf("\n");
}

void bench_queries(const std::string& dir, int64_t n_chunks, int n_queries, bool clustered, int dim) {
  std::mt19937 rng(2);
  std::vector<std::vector<float>> topics;
  for (int64_t t = 0; clustered && t < std::max<int64_t>(100, n_chunks / 50); ++t)
    topics.push_back(random_unit(rng, dim));
  std::uniform_int_distribution<size_t> pick_topic(0, topics.empty() ? 0 : topics.size() - 1);
  auto vocab = make_vocabulary(rng, 30000);
  std::string kbdir = dir + "/q" + std::to_string(n_chunks);
  auto base = kb::KnowledgeBase::create(kbdir, {.embed_model = "random-384"});
  if (!base) return;
  (void)(*base)->set_embed_model("random-384", dim);
  kb::KnowledgeBase& b = **base;
  // Documents of 20 chunks, written directly (ingest is measured above).
  auto t0 = Clock::now();
  std::vector<std::vector<float>> vectors;
  vectors.reserve(static_cast<size_t>(n_chunks));
  std::vector<int64_t> ids;
  auto gen = b.embed_gen();
  for (int64_t d = 0; d * 20 < n_chunks; ++d) {
    const std::vector<float>* topic = topics.empty() ? nullptr : &topics[pick_topic(rng)];
    std::vector<kb::KnowledgeBase::NewChunk> chunks;
    for (int c = 0; c < 20 && d * 20 + c < n_chunks; ++c) {
      kb::KnowledgeBase::NewChunk nc;
      nc.chunk.text = sentence(rng, vocab, 80);
      nc.chunk.line_first = c * 5 + 1;
      nc.chunk.line_last = c * 5 + 5;
      nc.vector = random_unit(rng, dim);
      if (topic) {  // topic + 0.75 * noise: cosine ~0.8 to the topic, ~0.64 between siblings
        float norm = 0;
        for (int j = 0; j < dim; ++j) {
          nc.vector[j] = (*topic)[j] + 0.75f * nc.vector[j];
          norm += nc.vector[j] * nc.vector[j];
        }
        for (float& x : nc.vector) x /= std::sqrt(norm);
      }
      chunks.push_back(std::move(nc));
    }
    kb::DocumentRow doc{0, "/bench/doc" + std::to_string(d) + ".md", std::to_string(d), 0, 1000, "markdown"};
    auto id = b.put_document(doc, chunks, *gen);
    if (!id) {
      std::printf("insert failed: %s\n", id.status().message().c_str());
      return;
    }
    for (auto& c : chunks) vectors.push_back(std::move(c.vector));
  }
  double insert_s = ms_since(t0) / 1e3;
  t0 = Clock::now();
  auto index = b.vector_index(true);
  if (!index || !*index) return;
  double build_s = ms_since(t0) / 1e3;

  // Recall@10 of HNSW against exact search, on stored-vector-independent random queries.
  {
    auto st = b.db().prepare("SELECT id, embedding FROM chunks ORDER BY id");
    std::vector<float> flat;
    while (*st->step()) {
      ids.push_back(st->int64(0));
      auto blob = st->blob(1);
      size_t at = flat.size();
      flat.resize(at + dim);
      std::memcpy(flat.data() + at, blob.data(), blob.size());
    }
    // Two query sets: uniform random directions (the hardest case for HNSW: every vector is
    // almost equally far), and queries near a stored vector (cosine ~0.7, like a question
    // about one passage).
    auto recall = [&](bool near) {
      int found = 0, total = 0;
      std::uniform_int_distribution<size_t> pick(0, ids.size() - 1);
      for (int q = 0; q < 100; ++q) {
        std::vector<float> qv = random_unit(rng, dim);
        if (near) {
          const float* base_v = flat.data() + pick(rng) * dim;
          float norm = 0;
          for (int j = 0; j < dim; ++j) {
            qv[j] += base_v[j];
            norm += qv[j] * qv[j];
          }
          for (float& x : qv) x /= std::sqrt(norm);
        }
        auto exact = kb::exact_search(qv, flat, ids, 10);
        auto approx = (*index)->search(qv, 10);
        std::set<int64_t> want;
        for (auto& h : exact) want.insert(h.id);
        for (auto& h : approx) found += static_cast<int>(want.count(h.id));
        total += 10;
      }
      return static_cast<double>(found) / total;
    };
    double r_uniform = recall(false), r_near = recall(true);
    std::printf(
        "### %lld chunks (%s vectors, dim %d)\n\ninsert %.1f s (%.0f chunks/s incl. FTS), HNSW build %.1f s; "
        "recall@10 vs exact (ef 256): %.3f for uniform random queries, %.3f for queries near a stored "
        "vector\n\n",
        static_cast<long long>(n_chunks), clustered ? "clustered" : "random", dim, insert_s,
        static_cast<double>(n_chunks) / insert_s, build_s, r_uniform, r_near);
  }

  FixedEmbedder embedder(dim);
  std::printf("| mode | p50 ms | p99 ms |\n|---|---:|---:|\n");
  for (kb::SearchMode mode : {kb::SearchMode::kKeyword, kb::SearchMode::kVector, kb::SearchMode::kHybrid}) {
    std::vector<double> times;
    for (int q = 0; q < n_queries; ++q) {
      kb::SearchQuery query;
      query.text = sentence(rng, vocab, 3);
      query.mode = mode;
      query.k = 10;
      embedder.next = random_unit(rng, dim);
      if (clustered) {  // a question about one passage: near a stored vector
        const std::vector<float>& near = vectors[static_cast<size_t>(rng() % vectors.size())];
        float norm = 0;
        for (int j = 0; j < dim; ++j) {
          embedder.next[j] += near[j];
          norm += embedder.next[j] * embedder.next[j];
        }
        for (float& x : embedder.next) x /= std::sqrt(norm);
      }
      auto t = Clock::now();
      auto hits = kb::search(b, query, &embedder);
      times.push_back(ms_since(t));
      if (!hits) {
        std::printf("search failed: %s\n", hits.status().message().c_str());
        return;
      }
    }
    auto p = percentiles(times);
    std::printf("| %s | %.2f | %.2f |\n", kb::search_mode_name(mode), p.p50, p.p99);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string embed_model;
  std::vector<int64_t> sizes = {10000, 100000};
  int files = 2000, queries = 200, dim = 384;
  bool clustered = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--embed-model")
      embed_model = argv[i + 1];
    else if (a == "--files")
      files = std::atoi(argv[i + 1]);
    else if (a == "--queries")
      queries = std::atoi(argv[i + 1]);
    else if (a == "--dim")
      dim = std::atoi(argv[i + 1]);
    else if (a == "--vectors")
      clustered = std::string(argv[i + 1]) != "random";
    else if (a == "--sizes") {
      sizes.clear();
      std::string s = argv[i + 1];
      for (size_t p = 0; p < s.size();) {
        size_t c = s.find(',', p);
        sizes.push_back(std::atoll(s.substr(p, c - p).c_str()));
        p = c == std::string::npos ? s.size() : c + 1;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::string dir =
      std::filesystem::temp_directory_path().string() + "/sov_kb_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  if (files > 0) bench_ingest(dir, embed_model, files);
  std::printf("## Queries (k = 10, %s %d-dim vectors, query embedding excluded)\n\n",
              clustered ? "clustered" : "random", dim);
  for (int64_t n : sizes) bench_queries(dir, n, queries, clustered, dim);
  std::filesystem::remove_all(dir);
  return 0;
}
