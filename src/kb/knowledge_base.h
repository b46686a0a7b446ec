// KnowledgeBase: one knowledge base on disk — a folder holding `kb.sqlite` (the source of
// truth) and the derived vector index files (see vector_index.h).
//
// Schema (kb.sqlite, WAL, foreign keys on):
//   meta(key, value)            settings (embed_model, embed_dim, chunk_tokens, ...) and the
//                               counters embed_gen (bumped when the embedding model changes)
//                               and vec_gen (bumped by every commit that changes vectors)
//   documents(id, path UNIQUE, hash, mtime_ns, size, format, indexed_at)
//   chunks(id, doc_id -> documents ON DELETE CASCADE, seq, line_first, line_last, heading,
//          text, embedding BLOB (float32 LE, L2-normalised), embed_gen)
//   chunks_fts                  FTS5 over chunks(text, heading), kept in step by triggers
// A chunk's vector is current when chunks.embed_gen = meta.embed_gen.
//
// Every change to one document (its row, all its chunks, their vectors, vec_gen) is one
// transaction, so a process killed at any moment leaves each document either fully old or
// fully new. The vector index reflects a vec_gen; whenever it differs from SQLite's (after a
// crash, or another process's commits), it is rebuilt from SQLite.
//
// Thread-safety: a KnowledgeBase holds one SQLite connection and is used by one thread at a
// time; other threads or processes open their own. The vector index it hands out is
// thread-safe for searching.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "kb/chunk.h"
#include "kb/db.h"
#include "kb/vector_index.h"

namespace sov::kb {

struct KbSettings {
  std::string embed_model;  // as the user gave it (store name or path); "" for keyword only
  int32_t chunk_tokens = 256;
  int32_t overlap_tokens = 32;
  int64_t max_file_bytes = 32ll << 20;
};

struct DocumentRow {
  int64_t id = 0;
  std::string path;
  std::string hash;  // hex SHA-256 of the file bytes
  int64_t mtime_ns = 0;
  int64_t size = 0;
  std::string format;
};

// Progress of a running writer, recorded in SQLite with each commit so that `kb status`
// in another process can show it.
struct WriterProgress {
  std::string phase;  // "indexing", "embedding"
  int64_t done = 0;
  int64_t total = 0;
  int64_t pid = 0;
  bool running = false;  // the recorded process is alive
};

struct KbStatus {
  KbSettings settings;
  int32_t embed_dim = 0;
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t bytes = 0;            // sum of document sizes
  int64_t chunks_embedded = 0;  // chunks with a current vector
  uint64_t vec_gen = 0;
  uint64_t embed_gen = 0;
  std::optional<WriterProgress> progress;
};

class KnowledgeBase {
 public:
  // Creates the folder (0700) and the database; fails when it already holds a base.
  static Result<std::unique_ptr<KnowledgeBase>> create(const std::string& dir, const KbSettings& settings);
  // Opens an existing base; kNotFound when there is none.
  static Result<std::unique_ptr<KnowledgeBase>> open(const std::string& dir);
  ~KnowledgeBase();

  const std::string& dir() const { return dir_; }
  Db& db() { return *db_; }
  const KbSettings& settings() const { return settings_; }
  int32_t embed_dim() const { return embed_dim_; }
  Result<uint64_t> embed_gen();
  Result<uint64_t> vec_gen();

  Result<KbStatus> status();

  // --- reads (call inside a read Transaction for a consistent snapshot) ---
  Result<std::optional<DocumentRow>> find_document(const std::string& path);
  // Documents whose path is `root` or lies below it ("root/...").
  Result<std::vector<DocumentRow>> documents_under(const std::string& root);
  Result<std::vector<DocumentRow>> documents_with_hash(const std::string& hash);

  // --- writes: each is one transaction ---
  struct NewChunk {
    Chunk chunk;
    std::vector<float> vector;  // empty: not embedded
  };
  // Inserts or replaces the document `doc.path` with these chunks (vectors, when given,
  // are current for embed_gen `gen`). Returns the document id.
  Result<int64_t> put_document(const DocumentRow& doc, const std::vector<NewChunk>& chunks, uint64_t gen);
  Status remove_document(int64_t id);
  Status rename_document(int64_t id, const std::string& new_path, int64_t mtime_ns);
  Status touch_document(int64_t id, int64_t mtime_ns, int64_t size);
  // Stores vectors for existing chunks (re-embedding); skips chunks that vanished.
  Status put_vectors(std::span<const int64_t> chunk_ids, const std::vector<std::vector<float>>& vectors,
                     uint64_t gen);

  // Switches the embedding model: bumps embed_gen (all vectors become stale) and records
  // the model and its dimension. "" switches embeddings off.
  Status set_embed_model(const std::string& model, int32_t dim);
  // Records (or clears, with phase "") the writer progress shown by status().
  Status set_progress(const std::string& phase, int64_t done, int64_t total);

  // Chunks without a current vector, in id order after `after_id`: (id, embed text).
  Result<std::vector<std::pair<int64_t, std::string>>> stale_chunks(int64_t after_id, int32_t limit);

  // The vector index in step with SQLite's current vec_gen: the loaded one, the saved file,
  // or a rebuild from SQLite (saved when `persist`). Null when there are no vectors.
  Result<VectorIndex*> vector_index(bool persist = true);
  // Saves the vector index if this writer changed it. Call at the end of a batch of writes.
  Status flush_vector_index();

  // The text a chunk is embedded as: its heading (when any) and its text.
  static std::string embed_text(std::string_view heading, std::string_view text);

 private:
  KnowledgeBase(std::string dir, std::unique_ptr<Db> db) : dir_(std::move(dir)), db_(std::move(db)) {}
  Status load_settings();
  Status set_meta(const std::string& key, const std::string& value);
  Result<std::string> get_meta(const std::string& key, const std::string& fallback);
  Result<uint64_t> bump_vec_gen();
  Result<std::unique_ptr<VectorIndex>> rebuild_index(uint64_t gen);
  // After a commit that moved vec_gen from `before` to `after`: keeps a loaded, in-step
  // index in step by applying the change.
  void apply_to_index(uint64_t before, uint64_t after, const std::vector<int64_t>& removed,
                      const std::vector<std::pair<int64_t, const std::vector<float>*>>& added);

  std::string dir_;
  std::unique_ptr<Db> db_;
  KbSettings settings_;
  int32_t embed_dim_ = 0;
  std::unique_ptr<VectorIndex> index_;  // in step when index_->generation() == vec_gen
  bool index_dirty_ = false;            // changed since loaded/saved
};

// Serialises a vector as float32 little-endian bytes and back.
std::vector<uint8_t> vector_to_blob(std::span<const float> v);
std::vector<float> blob_to_vector(std::span<const uint8_t> b);

}  // namespace sov::kb
