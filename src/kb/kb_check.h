// Test-only: consistency checks of a knowledge base against the files it indexes.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kb/knowledge_base.h"

namespace sov::kb::test {

// Every invariant of the schema: SQLite and FTS5 integrity, no orphans, chunks numbered
// 0..n-1 per document, vectors (when present) of the base's dimension.
inline void expect_consistent(KnowledgeBase& kb) {
  auto ic = kb.db().query_text("PRAGMA integrity_check");
  ASSERT_TRUE(ic);
  EXPECT_EQ(ic->value_or(""), "ok");
  EXPECT_TRUE(kb.db().exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES('integrity-check', 1)"))
      << "FTS index out of step with chunks";
  auto orphans =
      kb.db().query_int("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)");
  ASSERT_TRUE(orphans);
  EXPECT_EQ(*orphans, 0);
  auto gaps = kb.db().query_int(
      "SELECT count(*) FROM (SELECT doc_id, count(*) AS n, max(seq) AS m, count(DISTINCT seq) AS d FROM "
      "chunks "
      "GROUP BY doc_id) WHERE n != m + 1 OR d != n");
  ASSERT_TRUE(gaps);
  EXPECT_EQ(*gaps, 0);
  auto fts_rows = kb.db().query_int("SELECT count(*) FROM chunks_fts");
  auto chunk_rows = kb.db().query_int("SELECT count(*) FROM chunks");
  EXPECT_EQ(*fts_rows, *chunk_rows);
  if (kb.embed_dim() > 0) {
    auto bad = kb.db().query_int(
        ("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL AND length(embedding) != " +
         std::to_string(kb.embed_dim() * 4))
            .c_str());
    EXPECT_EQ(*bad, 0);
  }
}

// path -> list of chunk texts, in order.
inline std::map<std::string, std::vector<std::string>> snapshot(KnowledgeBase& kb) {
  std::map<std::string, std::vector<std::string>> out;
  auto st = kb.db().prepare(
      "SELECT d.path, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id ORDER BY d.path, c.seq");
  EXPECT_TRUE(st);
  while (st && *st->step()) out[st->text(0)].push_back(st->text(1));
  auto docs = kb.db().prepare("SELECT path FROM documents");
  while (docs && *docs->step()) out[docs->text(0)];
  return out;
}

}  // namespace sov::kb::test
