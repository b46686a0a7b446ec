// Vector and hybrid retrieval with a real (synthetic) embedding model, the HNSW index, model
// changes, and queries running while another connection indexes.
#include "kb/retrieve.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "base/testdata.h"
#include "kb/indexer.h"
#include "kb/kb_check.h"
#include "kb/test_util.h"

namespace sov::kb {
namespace {

using test::TempDir;
using test::write_file;

store::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

struct ModelBase {
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<KnowledgeBase> kb;
};

ModelBase make_base(const std::string& dir, const std::string& model) {
  ModelBase b;
  auto e = load_embedder(model, no_env());
  EXPECT_TRUE(e) << e.status().message();
  if (!e) return b;
  b.embedder = std::move(e).value();
  auto kb = KnowledgeBase::create(dir, {.embed_model = model});
  EXPECT_TRUE(kb);
  b.kb = std::move(kb).value();
  EXPECT_TRUE(b.kb->set_embed_model(model, b.embedder->dim()));
  return b;
}

TEST(Rrf, FusionOrder) {
  // b is second in both lists, a first in one and absent from the other.
  auto fused = reciprocal_rank_fusion({{1, 2, 3}, {4, 2, 5}}, 60.0);
  ASSERT_GE(fused.size(), 5u);
  EXPECT_EQ(fused[0].first, 2);  // 2/62 beats 1/61
  EXPECT_NEAR(fused[0].second, 2.0 / 62.0, 1e-12);
  // Ties keep the order of first appearance: 1 (list one) before 4 (list two).
  EXPECT_EQ(fused[1].first, 1);
  EXPECT_EQ(fused[2].first, 4);
  EXPECT_EQ(reciprocal_rank_fusion({}, 60.0).size(), 0u);
}

TEST(Mmr, PicksDiverseVectors) {
  std::vector<std::vector<float>> v = {{1, 0}, {1, 0}, {0, 1}};
  auto picked = mmr_select({1.0, 0.99, 0.5}, v, 2, 0.5);
  EXPECT_EQ(picked, (std::vector<size_t>{0, 2}));
  auto relevance_only = mmr_select({1.0, 0.99, 0.5}, v, 2, 1.0);
  EXPECT_EQ(relevance_only, (std::vector<size_t>{0, 1}));
}

TEST(VectorIndex, RecallSaveLoadAndDamage) {
  const int dim = 32, n = 3000;
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  std::vector<float> data(static_cast<size_t>(n) * dim);
  std::vector<int64_t> ids(n);
  VectorIndex index(dim);
  for (int i = 0; i < n; ++i) {
    float norm = 0;
    for (int j = 0; j < dim; ++j) {
      data[i * dim + j] = g(rng);
      norm += data[i * dim + j] * data[i * dim + j];
    }
    for (int j = 0; j < dim; ++j) data[i * dim + j] /= std::sqrt(norm);
    ids[i] = 1000 + i;
    index.add(ids[i], std::span<const float>(data).subspan(i * dim, dim));
  }
  int found = 0, total = 0;
  for (int qi = 0; qi < 50; ++qi) {
    std::span<const float> q = std::span<const float>(data).subspan(qi * 37 * dim, dim);
    auto exact = exact_search(q, data, ids, 10);
    auto approx = index.search(q, 10, 64);
    std::set<int64_t> want;
    for (auto& h : exact) want.insert(h.id);
    for (auto& h : approx) found += want.count(h.id);
    total += 10;
    EXPECT_EQ(approx[0].id, ids[qi * 37]);  // a stored vector finds itself
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.95);

  index.remove(1000);
  EXPECT_EQ(index.size(), static_cast<size_t>(n - 1));
  auto hits = index.search(std::span<const float>(data).subspan(0, dim), 5);
  for (auto& h : hits) EXPECT_NE(h.id, 1000);

  TempDir dir;
  index.set_generation(42);
  ASSERT_TRUE(index.save(dir.path()));
  auto loaded = VectorIndex::load(dir.path(), dim);
  ASSERT_TRUE(loaded) << loaded.status().message();
  EXPECT_EQ((*loaded)->generation(), 42u);
  EXPECT_EQ((*loaded)->size(), static_cast<size_t>(n - 1));
  EXPECT_EQ((*loaded)->search(std::span<const float>(data).subspan(dim, dim), 1)[0].id, 1001);
  EXPECT_EQ(VectorIndex::load(dir.path(), dim + 1).status().code(), ErrorCode::kCorrupt);

  // A damaged graph file is refused before hnswlib reads it.
  std::string graph = test::read_all(dir / "vectors.hnsw");
  graph[graph.size() / 2] ^= 0x55;
  write_file(dir / "vectors.hnsw", graph);
  EXPECT_EQ(VectorIndex::load(dir.path(), dim).status().code(), ErrorCode::kCorrupt);
  write_file(dir / "vectors.hnsw", graph.substr(0, 100));
  EXPECT_EQ(VectorIndex::load(dir.path(), dim).status().code(), ErrorCode::kCorrupt);
  write_file(dir / "vectors.json", "{\"dim\": \"x\"}");
  EXPECT_EQ(VectorIndex::load(dir.path(), dim).status().code(), ErrorCode::kCorrupt);
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = sov::test::testdata_dir();
    if (!data) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    model_ = *data + "/models/synth-bert-F32.gguf";
    test::make_fixture(files_.path());
    b_ = make_base(base_ / "kb", model_);
    ASSERT_TRUE(b_.kb && b_.embedder);
    auto s = add_paths(*b_.kb, {files_.path()}, b_.embedder.get());
    ASSERT_TRUE(s) << s.status().message();
    ASSERT_EQ(s->added, 8);
  }

  std::vector<SearchHit> run(const std::string& text, SearchMode mode, int64_t exact_below = 4096) {
    SearchQuery q;
    q.text = text;
    q.mode = mode;
    q.k = 5;
    q.exact_below = exact_below;
    auto hits = search(*b_.kb, q, b_.embedder.get());
    EXPECT_TRUE(hits) << hits.status().message();
    return hits ? *hits : std::vector<SearchHit>{};
  }

  std::string model_;
  TempDir files_, base_;
  ModelBase b_;
};

TEST_F(ModelTest, EveryChunkFindsItselfFirst) {
  auto st = b_.kb->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->chunks_embedded, st->chunks);
  test::expect_consistent(*b_.kb);
  std::vector<std::pair<int64_t, std::string>> chunks;
  {
    auto rows = b_.kb->db().prepare("SELECT id, heading, text FROM chunks ORDER BY id");
    ASSERT_TRUE(rows);
    while (*rows->step())
      chunks.emplace_back(rows->int64(0), KnowledgeBase::embed_text(rows->text(1), rows->text(2)));
  }
  int n = 0;
  for (const auto& [id, exact] : chunks) {
    for (int64_t exact_below : {int64_t{4096}, int64_t{0}}) {  // exact search, then HNSW
      auto vec = run(exact, SearchMode::kVector, exact_below);
      ASSERT_FALSE(vec.empty());
      EXPECT_EQ(vec[0].chunk_id, id) << exact;
      EXPECT_NEAR(vec[0].score, 1.0, 1e-4);
    }
    auto hyb = run(exact, SearchMode::kHybrid);
    ASSERT_FALSE(hyb.empty());
    EXPECT_EQ(hyb[0].chunk_id, id) << exact;
    ++n;
  }
  EXPECT_GT(n, 8);
}

TEST_F(ModelTest, HybridCombinesBothLists) {
  auto kw = run("kingfisher heron", SearchMode::kKeyword);
  ASSERT_FALSE(kw.empty());
  EXPECT_TRUE(kw[0].path.ends_with("birds.csv"));
  auto hyb = run("kingfisher heron", SearchMode::kHybrid);
  ASSERT_FALSE(hyb.empty());
  // The only keyword hit is at rank 1 of that list; it leads unless the same chunk is not
  // in the vector list at all and another one is first there (then they tie at 1/61 and
  // the keyword list, fused first, wins the tie). Either way it is first.
  EXPECT_TRUE(hyb[0].path.ends_with("birds.csv"));
  // Filters apply to vector search too.
  SearchQuery q;
  q.text = "anything at all";
  q.mode = SearchMode::kVector;
  q.path_glob = "*.py";
  q.k = 10;
  auto only_py = search(*b_.kb, q, b_.embedder.get());
  ASSERT_TRUE(only_py);
  ASSERT_FALSE(only_py->empty());
  for (auto& h : *only_py) EXPECT_TRUE(h.path.ends_with(".py")) << h.path;
}

TEST_F(ModelTest, VectorModeNeedsAModel) {
  TempDir d;
  auto plain = KnowledgeBase::create(d / "plain", {});
  ASSERT_TRUE(plain);
  SearchQuery q;
  q.text = "x";
  q.mode = SearchMode::kVector;
  EXPECT_EQ(search(**plain, q, nullptr).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ModelTest, IndexFileIsRebuiltWhenMissingOrStale) {
  ASSERT_TRUE(std::filesystem::exists(base_ / "kb/vectors.hnsw"));
  auto reopened = KnowledgeBase::open(base_ / "kb");
  ASSERT_TRUE(reopened);
  auto index = (*reopened)->vector_index(true);
  ASSERT_TRUE(index);
  ASSERT_NE(*index, nullptr);
  EXPECT_EQ((*index)->size(), static_cast<size_t>((*reopened)->status()->chunks));
  EXPECT_EQ((*index)->generation(), *(*reopened)->vec_gen());

  // Stale: another commit moved vec_gen on without touching the file.
  write_file(files_ / "extra.md", "# Extra\n\nHot air balloons over Cappadocia.\n");
  ASSERT_TRUE(add_paths(*b_.kb, {files_.path()}, b_.embedder.get()));
  auto third = KnowledgeBase::open(base_ / "kb");
  std::filesystem::remove(base_ / "kb/vectors.hnsw");
  auto rebuilt = (*third)->vector_index(true);
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ((*rebuilt)->size(), static_cast<size_t>((*third)->status()->chunks));
  EXPECT_TRUE(std::filesystem::exists(base_ / "kb/vectors.hnsw"));
  // Searching through HNSW on the reopened base finds the new chunk by its exact text.
  SearchQuery q;
  q.text = "Extra\n\n# Extra\n\nHot air balloons over Cappadocia.";
  q.mode = SearchMode::kVector;
  q.exact_below = 0;
  auto hits = search(**third, q, b_.embedder.get());
  ASSERT_TRUE(hits);
  ASSERT_FALSE(hits->empty());
  EXPECT_TRUE((*hits)[0].path.ends_with("extra.md"));
}

TEST_F(ModelTest, ChangingTheModelReembedsEverything) {
  std::string other = model_.substr(0, model_.rfind('/')) + "/synth-nomic-bert-F32.gguf";
  auto e2 = load_embedder(other, no_env());
  ASSERT_TRUE(e2);
  auto before = b_.kb->status();
  ASSERT_TRUE(b_.kb->set_embed_model(other, (*e2)->dim()));
  auto mid = b_.kb->status();
  EXPECT_EQ(mid->chunks_embedded, 0);
  EXPECT_EQ(mid->settings.embed_model, other);
  // Interrupted after the first batch, then resumed.
  int batches = 0;
  AddOptions stop_early;
  stop_early.cancelled = [&] { return batches++ >= 1; };
  auto first = embed_stale(*b_.kb, **e2, stop_early);
  ASSERT_TRUE(first);
  auto rest = embed_stale(*b_.kb, **e2);
  ASSERT_TRUE(rest);
  EXPECT_EQ(*first + *rest, before->chunks);
  EXPECT_EQ(b_.kb->status()->chunks_embedded, before->chunks);
  // Search now uses the new model's vectors.
  SearchQuery q;
  int64_t first_id = 0;
  {
    auto rows = b_.kb->db().prepare("SELECT id, heading, text FROM chunks ORDER BY id LIMIT 1");
    ASSERT_TRUE(*rows->step());
    q.text = KnowledgeBase::embed_text(rows->text(1), rows->text(2));
    first_id = rows->int64(0);
  }
  q.mode = SearchMode::kVector;
  auto hits = search(*b_.kb, q, e2->get());
  ASSERT_TRUE(hits);
  EXPECT_EQ((*hits)[0].chunk_id, first_id);
  test::expect_consistent(*b_.kb);
}

TEST(Concurrency, QueriesWhileIndexingSeeConsistentSnapshots) {
  TempDir files, base;
  const int n_files = 60;
  auto write_version = [&](const std::string& word) {
    for (int i = 0; i < n_files; ++i)
      write_file(
          files / ("f" + std::to_string(i) + ".md"),
          "# File " + std::to_string(i) + "\n\nshared " + word + " text number " + std::to_string(i) + "\n");
  };
  write_version("alpha");
  auto kb = KnowledgeBase::create(base / "kb", {});
  ASSERT_TRUE(kb);
  ASSERT_TRUE(add_paths(**kb, {files.path()}, nullptr));

  std::atomic<bool> done{false};
  std::atomic<int> queries{0};
  std::thread reader([&] {
    auto mine = KnowledgeBase::open(base / "kb");
    ASSERT_TRUE(mine);
    while (!done.load()) {
      for (const char* word : {"alpha", "beta"}) {
        SearchQuery q;
        q.text = word;
        q.k = 1000;
        auto hits = search(**mine, q, nullptr);
        ASSERT_TRUE(hits) << hits.status().message();
        std::set<int64_t> ids;
        std::set<std::string> paths;
        for (const auto& h : *hits) {
          EXPECT_TRUE(ids.insert(h.chunk_id).second) << "duplicate chunk";
          EXPECT_TRUE(paths.insert(h.path).second) << "two versions of one file";
          // FTS and chunk text come from the same snapshot.
          EXPECT_NE(h.text.find(word), std::string::npos) << h.text;
        }
        EXPECT_LE(hits->size(), static_cast<size_t>(n_files));
        ++queries;
      }
    }
  });
  for (int round = 0; round < 6; ++round) {
    write_version(round % 2 == 0 ? "beta" : "alpha");
    auto s = add_paths(**kb, {files.path()}, nullptr);
    ASSERT_TRUE(s) << s.status().message();
    EXPECT_EQ(s->updated, n_files);
  }
  // Let the reader run at least a few queries even on a fast machine.
  while (queries.load() < 4) std::this_thread::yield();
  done = true;
  reader.join();
  test::expect_consistent(**kb);
}

TEST(VectorIndex, ParallelBatchBuildFindsEveryVector) {
  const int dim = 32, n = 3000;
  std::mt19937 rng(9);
  std::normal_distribution<float> g;
  std::vector<float> data(static_cast<size_t>(n) * dim);
  std::vector<int64_t> ids(n);
  for (int i = 0; i < n; ++i) {
    float norm = 0;
    for (int j = 0; j < dim; ++j) {
      data[i * dim + j] = g(rng);
      norm += data[i * dim + j] * data[i * dim + j];
    }
    for (int j = 0; j < dim; ++j) data[i * dim + j] /= std::sqrt(norm);
    ids[i] = 7 + 3 * i;
  }
  VectorIndex index(dim, 16);  // add_batch grows it
  index.add_batch(std::span<const int64_t>(ids).first(1000),
                  std::span<const float>(data).first(static_cast<size_t>(1000) * dim), 4);
  index.add_batch(std::span<const int64_t>(ids).subspan(1000),
                  std::span<const float>(data).subspan(static_cast<size_t>(1000) * dim), 3);
  EXPECT_EQ(index.size(), static_cast<size_t>(n));
  int found = 0, total = 0;
  for (int qi = 0; qi < n; qi += 29) {
    std::span<const float> q = std::span<const float>(data).subspan(static_cast<size_t>(qi) * dim, dim);
    auto approx = index.search(q, 10, 64);
    ASSERT_FALSE(approx.empty());
    EXPECT_EQ(approx[0].id, ids[qi]);
    std::set<int64_t> want;
    for (auto& h : exact_search(q, data, ids, 10)) want.insert(h.id);
    for (auto& h : approx) found += static_cast<int>(want.count(h.id));
    total += 10;
  }
  EXPECT_GE(static_cast<double>(found) / total, 0.95);
}

// On a large base keyword search drops words that match much of it (see
// SearchQuery::max_keyword_postings); a small limit shows it on a small base.
TEST(KeywordSearch, CommonWordsAreDroppedWithinThePostingsLimit) {
  TempDir dir;
  auto kb = KnowledgeBase::create(dir.path() + "/kb", {});
  ASSERT_TRUE(kb) << kb.status().message();
  for (int d = 0; d < 12; ++d) {
    KnowledgeBase::NewChunk c;
    c.chunk.text = "common words here" + std::string(d == 0 ? " rare" : "") +
                   std::string(d >= 1 && d <= 3 ? " medium" : "");
    c.chunk.line_first = c.chunk.line_last = 1;
    DocumentRow doc{0, "/doc" + std::to_string(d), std::to_string(d), 0, 10, "text"};
    ASSERT_TRUE((*kb)->put_document(doc, {c}, 0));
  }
  auto paths = [&](int64_t max_postings) {
    SearchQuery q;
    q.text = "Common MEDIUM rare";
    q.k = 20;
    q.max_keyword_postings = max_postings;
    auto hits = search(**kb, q, nullptr);
    EXPECT_TRUE(hits) << hits.status().message();
    std::set<std::string> out;
    if (hits)
      for (const auto& h : *hits) out.insert(h.path);
    return out;
  };
  EXPECT_EQ(paths(5000).size(), 12u);                     // base too small: every word counts
  EXPECT_EQ(paths(2), (std::set<std::string>{"/doc0"}));  // only the rarest word
  EXPECT_EQ(paths(5), (std::set<std::string>{"/doc0", "/doc1", "/doc2", "/doc3"}));  // "common" is in all
}

}  // namespace
}  // namespace sov::kb
