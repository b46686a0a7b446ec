// SIGKILL the indexer at random moments (several runs), then run it again: the base must be
// consistent and complete — exactly what a fresh index of the same files holds, nothing
// duplicated, nothing lost — and its vector index usable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "base/testdata.h"
#include "kb/indexer.h"
#include "kb/kb_check.h"
#include "kb/retrieve.h"
#include "kb/test_util.h"

namespace sov::kb {
namespace {

using test::TempDir;
using test::write_file;

store::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

void make_corpus(const std::string& root, int n, int version) {
  for (int i = 0; i < n; ++i) {
    std::string text = "# Note " + std::to_string(i) + "\n\n";
    for (int p = 0; p < 6; ++p) {
      text += "Paragraph " + std::to_string(p) + " of note " + std::to_string(i) + " version " +
              std::to_string(version) + " mentions word" + std::to_string((i * 7 + p) % 50) +
              " and several other ordinary words to give the chunker something to split.\n\n";
    }
    write_file(root + "/d" + std::to_string(i % 5) + "/note" + std::to_string(i) + ".md", text);
  }
}

// Runs add_paths in a child process and kills it after `delay`; returns true if the child
// was killed before it finished.
bool kill_during_add(const std::string& kb_dir, const std::string& files, const std::string& model,
                     std::chrono::microseconds delay) {
  pid_t pid = fork();
  if (pid == 0) {
    auto kb = KnowledgeBase::open(kb_dir);
    if (!kb) _exit(3);
    std::unique_ptr<Embedder> e;
    if (!model.empty()) {
      auto loaded = load_embedder(model, no_env(), 1);
      if (!loaded) _exit(4);
      e = std::move(loaded).value();
    }
    auto s = add_paths(**kb, {files}, e.get());
    _exit(s ? 0 : 5);
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) EXPECT_EQ(WEXITSTATUS(status), 0) << "the child failed on its own";
  return WIFSIGNALED(status);
}

void run_crash_cycles(const std::string& model, int n_files, int cycles, int max_delay_ms) {
  TempDir files, base;
  std::unique_ptr<Embedder> embedder;
  KbSettings settings;
  settings.chunk_tokens = 48;
  settings.overlap_tokens = 8;
  if (!model.empty()) {
    auto e = load_embedder(model, no_env(), 1);
    ASSERT_TRUE(e);
    embedder = std::move(e).value();
    settings.embed_model = model;
  }
  {
    auto kb = KnowledgeBase::create(base / "kb", settings);
    ASSERT_TRUE(kb);
    if (embedder) ASSERT_TRUE((*kb)->set_embed_model(model, embedder->dim()));
  }
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> delay_us(1000, max_delay_ms * 1000);
  int killed = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    // Alternate between a new version of every file, deletions, and renames.
    make_corpus(files.path(), n_files, cycle);
    if (cycle % 3 == 2) std::filesystem::remove(files / "d1/note1.md");
    if (cycle % 3 == 1 && std::filesystem::exists(files / "d2/note2.md"))
      std::filesystem::rename(files / "d2/note2.md", files / "d3/renamed2.md");
    killed += kill_during_add(base / "kb", files.path(), model, std::chrono::microseconds(delay_us(rng)));

    // Right after the kill the base is consistent (if incomplete).
    auto kb = KnowledgeBase::open(base / "kb");
    ASSERT_TRUE(kb) << kb.status().message();
    test::expect_consistent(**kb);
    // A reader right after the crash gets valid results (the index may be stale or torn).
    SearchQuery q;
    q.text = "paragraph note";
    ASSERT_TRUE(search(**kb, q, embedder.get())) << "search after crash";

    // Run again to completion: complete and equal to a fresh index.
    auto s = add_paths(**kb, {files.path()}, embedder.get());
    ASSERT_TRUE(s) << s.status().message();
    test::expect_consistent(**kb);
    TempDir fresh_dir;
    auto fresh = KnowledgeBase::create(fresh_dir / "kb", settings);
    ASSERT_TRUE(fresh);
    if (embedder) ASSERT_TRUE((*fresh)->set_embed_model(model, embedder->dim()));
    ASSERT_TRUE(add_paths(**fresh, {files.path()}, embedder.get()));
    EXPECT_EQ(test::snapshot(**kb), test::snapshot(**fresh)) << "cycle " << cycle;
    if (embedder) {
      auto st = (*kb)->status();
      EXPECT_EQ(st->chunks_embedded, st->chunks);
      auto index = (*kb)->vector_index(true);
      ASSERT_TRUE(index);
      EXPECT_EQ((*index)->size(), static_cast<size_t>(st->chunks));
    }
  }
  // The random delays must actually interrupt runs, or this test proves nothing.
  EXPECT_GE(killed, cycles / 2) << "increase the corpus: the indexer finished before the kill";
}

TEST(Crash, KeywordOnlyIndexerKilledAtRandom) {
  run_crash_cycles("", 400, 6, 250);
}

TEST(Crash, EmbeddingIndexerKilledAtRandom) {
  auto data = sov::test::testdata_dir();
  if (!data) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
  run_crash_cycles(*data + "/models/synth-bert-F32.gguf", 200, 4, 300);
}

}  // namespace
}  // namespace sov::kb
