#include "kb/knowledge_base.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "kb/indexer.h"
#include "kb/kb_check.h"
#include "kb/registry.h"
#include "kb/retrieve.h"
#include "kb/test_util.h"
#include "kb/watch.h"

namespace sov::kb {
namespace {

using test::TempDir;
using test::write_file;

std::vector<std::string> paths_of(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) {
    std::string name = std::filesystem::path(h.path).filename().string();
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> keyword(KnowledgeBase& kb, const std::string& q, const std::string& glob = "") {
  SearchQuery query;
  query.text = q;
  query.k = 10;
  query.path_glob = glob;
  auto hits = search(kb, query, nullptr);
  EXPECT_TRUE(hits) << hits.status().message();
  return hits ? paths_of(*hits) : std::vector<std::string>{};
}

bool has_reason(const AddSummary& s, const std::string& file, const std::string& fragment) {
  for (const auto& k : s.skipped)
    if (k.path.ends_with(file) && k.reason.find(fragment) != std::string::npos) return true;
  return false;
}

class KbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_fixture(files_.path());
    auto kb = KnowledgeBase::create(base_ / "kb", {});
    ASSERT_TRUE(kb) << kb.status().message();
    kb_ = std::move(kb).value();
  }
  TempDir files_, base_;
  std::unique_ptr<KnowledgeBase> kb_;
};

TEST_F(KbTest, IndexesMixedFolderAndReportsSkips) {
  auto s = add_paths(*kb_, {files_.path()}, nullptr);
  ASSERT_TRUE(s) << s.status().message();
  EXPECT_EQ(s->added, 8);  // md, rst, py, html, json, csv, txt, pdf
  EXPECT_GT(s->chunks, 8);
  EXPECT_TRUE(has_reason(*s, "image.png", "binary (PNG"));
  EXPECT_TRUE(has_reason(*s, "/build", "ignored"));
  EXPECT_TRUE(has_reason(*s, "secret.log", "ignored"));
  test::expect_consistent(*kb_);

  EXPECT_EQ(keyword(*kb_, "tomatoes"), std::vector<std::string>{"garden.md"});
  EXPECT_EQ(keyword(*kb_, "Lisbon"), std::vector<std::string>{"travel.rst"});
  EXPECT_EQ(keyword(*kb_, "fibonacci"), std::vector<std::string>{"fib.py"});
  EXPECT_EQ(keyword(*kb_, "pancakes batter"), std::vector<std::string>{"page.html"});
  EXPECT_EQ(keyword(*kb_, "telescope"), std::vector<std::string>{"manual.pdf"});
  EXPECT_EQ(keyword(*kb_, "kingfisher"), std::vector<std::string>{"birds.csv"});
  EXPECT_EQ(keyword(*kb_, "localhost"), std::vector<std::string>{"config.json"});
  EXPECT_EQ(keyword(*kb_, "quarterly budget"), std::vector<std::string>{"readme.txt"});
  EXPECT_TRUE(keyword(*kb_, "javascriptonly").empty());  // script bodies are not text
  EXPECT_TRUE(keyword(*kb_, "zeppelin").empty());        // ignored files

  // Heading context is kept with the chunk.
  SearchQuery q;
  q.text = "compost";
  auto hits = search(*kb_, q, nullptr);
  ASSERT_TRUE(hits);
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].heading, "Garden > Compost");
  EXPECT_EQ((*hits)[0].line_first, 9);  // the heading line opens the chunk
  EXPECT_EQ((*hits)[0].line_last, 11);
}

TEST_F(KbTest, Filters) {
  ASSERT_TRUE(add_paths(*kb_, {files_.path()}, nullptr));
  // "the" appears in several files; the glob narrows it.
  auto all = keyword(*kb_, "the");
  EXPECT_GT(all.size(), 2u);
  EXPECT_EQ(keyword(*kb_, "the", "*.md"), std::vector<std::string>{"garden.md"});
  EXPECT_EQ(keyword(*kb_, "the", "notes/*.rst").size(), 0u);  // "the" not in travel.rst
  EXPECT_EQ(keyword(*kb_, "passport", "notes/**"), std::vector<std::string>{"travel.rst"});
  EXPECT_TRUE(keyword(*kb_, "passport", "src/**").empty());

  // Modification time: make garden.md old.
  std::filesystem::last_write_time(files_ / "notes/garden.md", std::filesystem::file_time_type::clock::now() -
                                                                   std::chrono::hours(24 * 400));
  ASSERT_TRUE(add_paths(*kb_, {files_.path()}, nullptr));
  SearchQuery q;
  q.text = "tomatoes compost";
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  q.modified_after = now - 24 * 3600;
  EXPECT_TRUE(search(*kb_, q, nullptr)->empty());
  q.modified_after.reset();
  q.modified_before = now - 24 * 3600 * 300;
  EXPECT_FALSE(search(*kb_, q, nullptr)->empty());
}

TEST_F(KbTest, IncrementalFollowsModifyDeleteRename) {
  ASSERT_TRUE(add_paths(*kb_, {files_.path()}, nullptr));
  auto before = test::snapshot(*kb_);

  // Nothing changed: nothing re-read.
  auto again = add_paths(*kb_, {files_.path()}, nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->added + again->updated + again->removed + again->renamed, 0);
  EXPECT_EQ(again->unchanged, 8);
  EXPECT_EQ(test::snapshot(*kb_), before);

  // Modify, delete, rename, add.
  write_file(files_ / "readme.txt", "The annual picnic moved to Saturday.\n");
  std::filesystem::remove(files_ / "notes/travel.rst");
  auto id_before = kb_->db().query_int(
      "SELECT min(c.id) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path LIKE '%/fib.py'");
  std::filesystem::rename(files_ / "src/fib.py", files_ / "src/sequence.py");
  write_file(files_ / "notes/new.md", "# New\n\nA note about origami cranes.\n");
  auto s = add_paths(*kb_, {files_.path()}, nullptr);
  ASSERT_TRUE(s) << s.status().message();
  EXPECT_EQ(s->updated, 1);
  EXPECT_EQ(s->removed, 1);
  EXPECT_EQ(s->renamed, 1);
  EXPECT_EQ(s->added, 1);
  test::expect_consistent(*kb_);

  EXPECT_TRUE(keyword(*kb_, "quarterly").empty());
  EXPECT_EQ(keyword(*kb_, "picnic"), std::vector<std::string>{"readme.txt"});
  EXPECT_TRUE(keyword(*kb_, "Lisbon").empty());
  EXPECT_EQ(keyword(*kb_, "fibonacci"), std::vector<std::string>{"sequence.py"});
  EXPECT_EQ(keyword(*kb_, "origami"), std::vector<std::string>{"new.md"});
  // The rename kept the chunks (no re-chunking, no re-embedding).
  auto id_after = kb_->db().query_int(
      "SELECT min(c.id) FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE d.path LIKE '%/sequence.py'");
  EXPECT_EQ(*id_before, *id_after);

  // The result equals a fresh index of the same folder: no duplicates, no stale chunks.
  auto fresh = KnowledgeBase::create(base_ / "fresh", {});
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(add_paths(**fresh, {files_.path()}, nullptr));
  EXPECT_EQ(test::snapshot(*kb_), test::snapshot(**fresh));

  // A file that turns binary or too large leaves the base, with a reason.
  write_file(files_ / "notes/new.md", std::string("bin\0ary", 7));
  auto b = add_paths(*kb_, {files_.path()}, nullptr);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->removed, 1);
  EXPECT_TRUE(has_reason(*b, "new.md", "NUL"));
  EXPECT_TRUE(keyword(*kb_, "origami").empty());
  AddOptions small;
  small.max_file_bytes = 40;
  write_file(files_ / "readme.txt", "The annual picnic moved to Saturday, and the lake trip too.\n");
  auto c = add_paths(*kb_, {files_.path()}, nullptr, small);
  ASSERT_TRUE(c);
  EXPECT_TRUE(has_reason(*c, "readme.txt", "too large"));
  EXPECT_TRUE(keyword(*kb_, "picnic").empty());
  test::expect_consistent(*kb_);
}

TEST_F(KbTest, SubfolderAndSingleFileScopes) {
  ASSERT_TRUE(add_paths(*kb_, {files_ / "notes"}, nullptr));
  ASSERT_TRUE(add_paths(*kb_, {files_ / "readme.txt"}, nullptr));
  auto st = kb_->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->documents, 3);
  // Re-adding only notes/ must not remove readme.txt (outside that scope).
  std::filesystem::remove(files_ / "notes/garden.md");
  auto s = add_paths(*kb_, {files_ / "notes"}, nullptr);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->removed, 1);
  EXPECT_EQ(kb_->status()->documents, 2);
  EXPECT_EQ(keyword(*kb_, "quarterly"), std::vector<std::string>{"readme.txt"});
}

TEST_F(KbTest, RawTextDocuments) {
  auto s = add_text(*kb_, "memo-1", "Remember to renew the library card.", nullptr);
  ASSERT_TRUE(s) << s.status().message();
  EXPECT_EQ(s->added, 1);
  EXPECT_EQ(keyword(*kb_, "library card"), std::vector<std::string>{"text:memo-1"});
  auto again = add_text(*kb_, "memo-1", "Remember to water the ferns.", nullptr);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->updated, 1);
  EXPECT_TRUE(keyword(*kb_, "library").empty());
  EXPECT_FALSE(add_text(*kb_, "bin", std::string("\0\1\2", 3), nullptr));
}

TEST_F(KbTest, HostileQueriesNeverFail) {
  ASSERT_TRUE(add_paths(*kb_, {files_.path()}, nullptr));
  for (const char* q :
       {"\"", "\"\"\"", "AND", "OR NOT", "*", "col:tomatoes", "NEAR(a b)", ")(", "^tomatoes", "-x",
        "tomatoes\"; DROP TABLE chunks; --", "", "   ", "\xff\xfe", "\xf0\x9f\x8d\x85 tomatoes"}) {
    SearchQuery query;
    query.text = q;
    auto hits = search(*kb_, query, nullptr);
    EXPECT_TRUE(hits) << q << ": " << hits.status().message();
  }
  EXPECT_EQ(keyword(*kb_, "tomatoes\"; DROP TABLE chunks; --"), std::vector<std::string>{"garden.md"});
  EXPECT_EQ(fts_query("a \"b\" c:d"), "\"a\" OR \"b\" OR \"c\" OR \"d\"");
  test::expect_consistent(*kb_);
}

TEST_F(KbTest, MmrPrefersDiverseResults) {
  TempDir dir;
  write_file(dir / "a.txt", "apple banana apple banana orchard\n");
  write_file(dir / "b.txt", "apple banana apple banana orchard\n");
  write_file(dir / "c.txt", "apple cherry plum pear\n");
  ASSERT_TRUE(add_paths(*kb_, {dir.path()}, nullptr));
  SearchQuery q;
  q.text = "apple banana";
  q.k = 2;
  auto plain = search(*kb_, q, nullptr);
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->size(), 2u);
  EXPECT_EQ((*plain)[0].text, (*plain)[1].text);  // the two duplicates
  q.mmr = true;
  q.mmr_lambda = 0.3f;
  auto diverse = search(*kb_, q, nullptr);
  ASSERT_TRUE(diverse);
  ASSERT_EQ(diverse->size(), 2u);
  EXPECT_NE((*diverse)[0].text, (*diverse)[1].text);
}

TEST_F(KbTest, WatchFollowsChanges) {
  TempDir dir;
  write_file(dir / "a.txt", "first words\n");
  std::atomic<bool> stop{false};
  std::atomic<int> passes{0};
  // The watcher has its own connection, as a second process would.
  auto mine = KnowledgeBase::open(base_ / "kb");
  ASSERT_TRUE(mine);
  std::thread watcher([&] {
    Status s = watch_paths(
        **mine, {dir.path()}, nullptr, {}, [&](const AddSummary&) { ++passes; }, stop, 50);
    EXPECT_TRUE(s) << s.message();
  });
  auto wait_for = [&](const std::string& word, bool present) {
    // Bounded only to turn a hang into a failure; the watcher normally reacts in ~50 ms.
    for (int i = 0; i < 400; ++i) {
      if (passes.load() > 0 && keyword(*kb_, word).empty() != present) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  };
  EXPECT_TRUE(wait_for("first", true));
  write_file(dir / "sub/new.txt", "okapi sighting\n");  // in a folder created after the start
  EXPECT_TRUE(wait_for("okapi", true));
  std::filesystem::remove(dir / "a.txt");
  EXPECT_TRUE(wait_for("first", false));
  stop = true;
  watcher.join();
  test::expect_consistent(*kb_);
}

TEST(Registry, CreateListRemove) {
  TempDir home;
  std::string root = home / "kb";
  EXPECT_TRUE(list_kbs(root).empty());
  auto dir = kb_dir(root, "notes");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(KnowledgeBase::create(*dir, {}));
  EXPECT_FALSE(KnowledgeBase::create(*dir, {}));  // exists
  ASSERT_TRUE(KnowledgeBase::create(*kb_dir(root, "work"), {}));
  EXPECT_EQ(list_kbs(root), (std::vector<std::string>{"notes", "work"}));
  EXPECT_TRUE(remove_kb(root, "notes"));
  EXPECT_EQ(remove_kb(root, "notes").code(), ErrorCode::kNotFound);
  EXPECT_FALSE(remove_kb(root, "../kb"));
  EXPECT_EQ(list_kbs(root), (std::vector<std::string>{"work"}));
  EXPECT_EQ(KnowledgeBase::open(root + "/missing").status().code(), ErrorCode::kNotFound);
  // A file that is not a database is refused, not trusted.
  std::filesystem::create_directories(root + "/junk");
  write_file(root + "/junk/kb.sqlite", "not a database at all, just some text that is long enough");
  EXPECT_FALSE(KnowledgeBase::open(root + "/junk"));
}

}  // namespace
}  // namespace sov::kb
