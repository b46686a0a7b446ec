#include "kb/knowledge_base.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "kb/glob.h"

namespace sov::kb {
namespace {

constexpr const char* kDbFile = "kb.sqlite";
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  mtime_ns INTEGER NOT NULL,
  size INTEGER NOT NULL,
  format TEXT NOT NULL,
  indexed_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(hash);
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  line_first INTEGER NOT NULL,
  line_last INTEGER NOT NULL,
  heading TEXT NOT NULL,
  text TEXT NOT NULL,
  embedding BLOB,
  embed_gen INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  text, heading, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
END;
CREATE TRIGGER IF NOT EXISTS chunks_au AFTER UPDATE OF text, heading ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
  INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
END;
)sql";

// SQL function kb_path_match(pattern, path) for the search path filter.
void sql_path_match(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const char* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const char* s = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  sqlite3_result_int(ctx, p && s && path_filter_match(p, s) ? 1 : 0);
}

int64_t now_seconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

Result<std::unique_ptr<Db>> open_db(const std::string& path, bool create) {
  SOV_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::open(path, create));
  sqlite3_create_function(db->raw(), "kb_path_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                          sql_path_match, nullptr, nullptr);
  return db;
}

}  // namespace

std::vector<uint8_t> vector_to_blob(std::span<const float> v) {
  std::vector<uint8_t> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());  // x86-64 and ARM64 are little-endian
  return out;
}

std::vector<float> blob_to_vector(std::span<const uint8_t> b) {
  std::vector<float> out(b.size() / sizeof(float));
  std::memcpy(out.data(), b.data(), out.size() * sizeof(float));
  return out;
}

std::string KnowledgeBase::embed_text(std::string_view heading, std::string_view text) {
  if (heading.empty()) return std::string(text);
  std::string out(heading);
  out += "\n\n";
  out += text;
  return out;
}

Result<std::unique_ptr<KnowledgeBase>> KnowledgeBase::create(const std::string& dir,
                                                             const KbSettings& settings) {
  std::error_code ec;
  if (std::filesystem::exists(dir + "/" + kDbFile, ec)) return Status::invalid_argument("it already exists");
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", dir, ec.message()));
  ::chmod(dir.c_str(), 0700);
  SOV_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, open_db(dir + "/" + kDbFile, true));
  std::unique_ptr<KnowledgeBase> kb(new KnowledgeBase(dir, std::move(db)));
  {
    SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(kb->db(), true));
    SOV_RETURN_IF_ERROR(kb->db().exec(kSchema));
    // `rank` (ORDER BY rank lets FTS5 sort internally): BM25 with the heading at half weight.
    SOV_RETURN_IF_ERROR(
        kb->db().exec("INSERT INTO chunks_fts(chunks_fts, rank) VALUES('rank', 'bm25(1.0, 0.5)')"));
    SOV_RETURN_IF_ERROR(kb->set_meta("schema", std::to_string(kSchemaVersion)));
    SOV_RETURN_IF_ERROR(kb->set_meta("embed_model", settings.embed_model));
    SOV_RETURN_IF_ERROR(kb->set_meta("embed_dim", "0"));
    SOV_RETURN_IF_ERROR(kb->set_meta("embed_gen", "1"));
    SOV_RETURN_IF_ERROR(kb->set_meta("vec_gen", "1"));
    SOV_RETURN_IF_ERROR(kb->set_meta("chunk_tokens", std::to_string(settings.chunk_tokens)));
    SOV_RETURN_IF_ERROR(kb->set_meta("overlap_tokens", std::to_string(settings.overlap_tokens)));
    SOV_RETURN_IF_ERROR(kb->set_meta("max_file_bytes", std::to_string(settings.max_file_bytes)));
    SOV_RETURN_IF_ERROR(kb->set_meta("created", std::to_string(now_seconds())));
    SOV_RETURN_IF_ERROR(tx.commit());
  }
  SOV_RETURN_IF_ERROR(kb->load_settings());
  return kb;
}

Result<std::unique_ptr<KnowledgeBase>> KnowledgeBase::open(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir + "/" + kDbFile, ec))
    return Status::not_found("no such knowledge base");
  SOV_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, open_db(dir + "/" + kDbFile, false));
  std::unique_ptr<KnowledgeBase> kb(new KnowledgeBase(dir, std::move(db)));
  SOV_RETURN_IF_ERROR(kb->load_settings());
  return kb;
}

KnowledgeBase::~KnowledgeBase() = default;

Status KnowledgeBase::set_meta(const std::string& key, const std::string& value) {
  SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("INSERT INTO meta(key, value) VALUES(?, ?) "
                                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  st.bind(1, key).bind(2, value);
  return st.run();
}

Result<std::string> KnowledgeBase::get_meta(const std::string& key, const std::string& fallback) {
  SOV_ASSIGN_OR_RETURN(auto v, db_->query_text("SELECT value FROM meta WHERE key = ?", key));
  return v ? *v : fallback;
}

Status KnowledgeBase::load_settings() {
  SOV_ASSIGN_OR_RETURN(std::string schema, get_meta("schema", ""));
  if (schema != std::to_string(kSchemaVersion))
    return Status::unsupported(fmt::format("knowledge base schema '{}' is not supported", schema));
  SOV_ASSIGN_OR_RETURN(settings_.embed_model, get_meta("embed_model", ""));
  auto num = [&](const char* key, int64_t def) -> Result<int64_t> {
    SOV_ASSIGN_OR_RETURN(std::string v, get_meta(key, std::to_string(def)));
    char* end = nullptr;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (end == v.c_str() || *end) return Status::corrupt(fmt::format("meta {} is not a number", key));
    return static_cast<int64_t>(x);
  };
  SOV_ASSIGN_OR_RETURN(int64_t dim, num("embed_dim", 0));
  SOV_ASSIGN_OR_RETURN(int64_t ct, num("chunk_tokens", 256));
  SOV_ASSIGN_OR_RETURN(int64_t ot, num("overlap_tokens", 32));
  SOV_ASSIGN_OR_RETURN(settings_.max_file_bytes, num("max_file_bytes", 32ll << 20));
  embed_dim_ = static_cast<int32_t>(dim);
  settings_.chunk_tokens = static_cast<int32_t>(ct);
  settings_.overlap_tokens = static_cast<int32_t>(ot);
  return Status::ok();
}

Result<uint64_t> KnowledgeBase::embed_gen() {
  SOV_ASSIGN_OR_RETURN(std::string v, get_meta("embed_gen", "1"));
  return std::strtoull(v.c_str(), nullptr, 10);
}

Result<uint64_t> KnowledgeBase::vec_gen() {
  SOV_ASSIGN_OR_RETURN(std::string v, get_meta("vec_gen", "1"));
  return std::strtoull(v.c_str(), nullptr, 10);
}

Result<uint64_t> KnowledgeBase::bump_vec_gen() {
  SOV_ASSIGN_OR_RETURN(uint64_t g, vec_gen());
  SOV_RETURN_IF_ERROR(set_meta("vec_gen", std::to_string(g + 1)));
  return g + 1;
}

Result<KbStatus> KnowledgeBase::status() {
  KbStatus s;
  SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, false));
  SOV_RETURN_IF_ERROR(load_settings());
  s.settings = settings_;
  s.embed_dim = embed_dim_;
  SOV_ASSIGN_OR_RETURN(s.embed_gen, embed_gen());
  SOV_ASSIGN_OR_RETURN(s.vec_gen, vec_gen());
  SOV_ASSIGN_OR_RETURN(s.documents, db_->query_int("SELECT count(*) FROM documents"));
  SOV_ASSIGN_OR_RETURN(s.bytes, db_->query_int("SELECT coalesce(sum(size), 0) FROM documents"));
  SOV_ASSIGN_OR_RETURN(s.chunks, db_->query_int("SELECT count(*) FROM chunks"));
  SOV_ASSIGN_OR_RETURN(
      Stmt st, db_->prepare("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL AND embed_gen = ?"));
  st.bind(1, static_cast<int64_t>(s.embed_gen));
  SOV_ASSIGN_OR_RETURN(bool row, st.step());
  s.chunks_embedded = row ? st.int64(0) : 0;
  SOV_ASSIGN_OR_RETURN(std::string progress, get_meta("progress", ""));
  if (!progress.empty()) {
    auto j = nlohmann::json::parse(progress, nullptr, false);
    if (j.is_object()) {
      WriterProgress p;
      p.phase = j.value("phase", "");
      p.done = j.value("done", int64_t{0});
      p.total = j.value("total", int64_t{0});
      p.pid = j.value("pid", int64_t{0});
      p.running = p.pid > 0 && (::kill(static_cast<pid_t>(p.pid), 0) == 0 || errno == EPERM);
      s.progress = p;
    }
  }
  return s;
}

Result<std::optional<DocumentRow>> KnowledgeBase::find_document(const std::string& path) {
  SOV_ASSIGN_OR_RETURN(
      Stmt st, db_->prepare("SELECT id, path, hash, mtime_ns, size, format FROM documents WHERE path = ?"));
  st.bind(1, path);
  SOV_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<DocumentRow>();
  return std::optional<DocumentRow>(
      DocumentRow{st.int64(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.text(5)});
}

Result<std::vector<DocumentRow>> KnowledgeBase::documents_under(const std::string& root) {
  // Paths below root sort between "root/" and "root0" ('0' follows '/').
  std::string lo = root == "/" ? "/" : root + "/";
  std::string hi = root == "/" ? "0" : root + "0";
  SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("SELECT id, path, hash, mtime_ns, size, format FROM documents "
                                             "WHERE path = ? OR (path >= ? AND path < ?) ORDER BY path"));
  st.bind(1, root).bind(2, lo).bind(3, hi);
  std::vector<DocumentRow> out;
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({st.int64(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.text(5)});
  }
  return out;
}

Result<std::vector<DocumentRow>> KnowledgeBase::documents_with_hash(const std::string& hash) {
  SOV_ASSIGN_OR_RETURN(
      Stmt st, db_->prepare("SELECT id, path, hash, mtime_ns, size, format FROM documents WHERE hash = ?"));
  st.bind(1, hash);
  std::vector<DocumentRow> out;
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({st.int64(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.text(5)});
  }
  return out;
}

void KnowledgeBase::apply_to_index(uint64_t before, uint64_t after, const std::vector<int64_t>& removed,
                                   const std::vector<std::pair<int64_t, const std::vector<float>*>>& added) {
  if (!index_ || before == after) return;
  if (index_->generation() != before) return;  // out of step already: rebuilt when next needed
  for (int64_t id : removed) index_->remove(id);
  for (const auto& [id, v] : added) index_->add(id, *v);
  index_->set_generation(after);
  index_dirty_ = true;
}

Result<int64_t> KnowledgeBase::put_document(const DocumentRow& doc, const std::vector<NewChunk>& chunks,
                                            uint64_t gen) {
  std::vector<int64_t> removed;
  std::vector<std::pair<int64_t, const std::vector<float>*>> added;
  uint64_t before = 0, after = 0;
  int64_t doc_id = 0;
  {
    SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, true));
    SOV_ASSIGN_OR_RETURN(before, vec_gen());
    after = before;
    SOV_ASSIGN_OR_RETURN(auto existing, find_document(doc.path));
    if (existing) {
      doc_id = existing->id;
      SOV_ASSIGN_OR_RETURN(Stmt ids,
                           db_->prepare("SELECT id FROM chunks WHERE doc_id = ? AND embedding IS NOT NULL"));
      ids.bind(1, doc_id);
      while (true) {
        SOV_ASSIGN_OR_RETURN(bool row, ids.step());
        if (!row) break;
        removed.push_back(ids.int64(0));
      }
      SOV_ASSIGN_OR_RETURN(Stmt del, db_->prepare("DELETE FROM chunks WHERE doc_id = ?"));
      del.bind(1, doc_id);
      SOV_RETURN_IF_ERROR(del.run());
      SOV_ASSIGN_OR_RETURN(Stmt up,
                           db_->prepare("UPDATE documents SET hash = ?, mtime_ns = ?, size = ?, format = ?, "
                                        "indexed_at = ? WHERE id = ?"));
      up.bind(1, doc.hash)
          .bind(2, doc.mtime_ns)
          .bind(3, doc.size)
          .bind(4, doc.format)
          .bind(5, now_seconds())
          .bind(6, doc_id);
      SOV_RETURN_IF_ERROR(up.run());
    } else {
      SOV_ASSIGN_OR_RETURN(
          Stmt ins, db_->prepare("INSERT INTO documents(path, hash, mtime_ns, size, format, indexed_at) "
                                 "VALUES(?, ?, ?, ?, ?, ?)"));
      ins.bind(1, doc.path)
          .bind(2, doc.hash)
          .bind(3, doc.mtime_ns)
          .bind(4, doc.size)
          .bind(5, doc.format)
          .bind(6, now_seconds());
      SOV_RETURN_IF_ERROR(ins.run());
      doc_id = db_->last_insert_rowid();
    }
    SOV_ASSIGN_OR_RETURN(Stmt ins,
                         db_->prepare("INSERT INTO chunks(doc_id, seq, line_first, line_last, heading, text, "
                                      "embedding, embed_gen) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < chunks.size(); ++i) {
      const NewChunk& c = chunks[i];
      ins.bind(1, doc_id)
          .bind(2, static_cast<int64_t>(i))
          .bind(3, int64_t{c.chunk.line_first})
          .bind(4, int64_t{c.chunk.line_last})
          .bind(5, c.chunk.heading)
          .bind(6, c.chunk.text);
      if (c.vector.empty()) {
        ins.bind_null(7).bind(8, int64_t{0});
      } else {
        ins.bind_blob(7, vector_to_blob(c.vector)).bind(8, static_cast<int64_t>(gen));
      }
      SOV_RETURN_IF_ERROR(ins.run());
      if (!c.vector.empty()) added.emplace_back(db_->last_insert_rowid(), &c.vector);
    }
    if (!removed.empty() || !added.empty()) {
      SOV_ASSIGN_OR_RETURN(after, bump_vec_gen());
    }
    SOV_RETURN_IF_ERROR(tx.commit());
  }
  apply_to_index(before, after, removed, added);
  return doc_id;
}

Status KnowledgeBase::remove_document(int64_t id) {
  std::vector<int64_t> removed;
  uint64_t before = 0, after = 0;
  {
    SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, true));
    SOV_ASSIGN_OR_RETURN(before, vec_gen());
    after = before;
    SOV_ASSIGN_OR_RETURN(Stmt ids,
                         db_->prepare("SELECT id FROM chunks WHERE doc_id = ? AND embedding IS NOT NULL"));
    ids.bind(1, id);
    while (true) {
      SOV_ASSIGN_OR_RETURN(bool row, ids.step());
      if (!row) break;
      removed.push_back(ids.int64(0));
    }
    SOV_ASSIGN_OR_RETURN(Stmt del, db_->prepare("DELETE FROM chunks WHERE doc_id = ?"));
    del.bind(1, id);
    SOV_RETURN_IF_ERROR(del.run());
    SOV_ASSIGN_OR_RETURN(Stmt deld, db_->prepare("DELETE FROM documents WHERE id = ?"));
    deld.bind(1, id);
    SOV_RETURN_IF_ERROR(deld.run());
    if (!removed.empty()) {
      SOV_ASSIGN_OR_RETURN(after, bump_vec_gen());
    }
    SOV_RETURN_IF_ERROR(tx.commit());
  }
  apply_to_index(before, after, removed, {});
  return Status::ok();
}

Status KnowledgeBase::rename_document(int64_t id, const std::string& new_path, int64_t mtime_ns) {
  SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("UPDATE documents SET path = ?, mtime_ns = ? WHERE id = ?"));
  st.bind(1, new_path).bind(2, mtime_ns).bind(3, id);
  return st.run();  // one statement: its own transaction
}

Status KnowledgeBase::touch_document(int64_t id, int64_t mtime_ns, int64_t size) {
  SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("UPDATE documents SET mtime_ns = ?, size = ? WHERE id = ?"));
  st.bind(1, mtime_ns).bind(2, size).bind(3, id);
  return st.run();
}

Status KnowledgeBase::put_vectors(std::span<const int64_t> chunk_ids,
                                  const std::vector<std::vector<float>>& vectors, uint64_t gen) {
  std::vector<int64_t> changed;
  std::vector<std::pair<int64_t, const std::vector<float>*>> added;
  uint64_t before = 0, after = 0;
  {
    SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, true));
    SOV_ASSIGN_OR_RETURN(uint64_t current, embed_gen());
    if (current != gen) return Status::cancelled("the embedding model changed meanwhile");
    SOV_ASSIGN_OR_RETURN(before, vec_gen());
    SOV_ASSIGN_OR_RETURN(Stmt up,
                         db_->prepare("UPDATE chunks SET embedding = ?, embed_gen = ? WHERE id = ?"));
    for (size_t i = 0; i < chunk_ids.size() && i < vectors.size(); ++i) {
      up.bind_blob(1, vector_to_blob(vectors[i])).bind(2, static_cast<int64_t>(gen)).bind(3, chunk_ids[i]);
      SOV_RETURN_IF_ERROR(up.run());
      if (db_->changes() > 0) added.emplace_back(chunk_ids[i], &vectors[i]);
    }
    SOV_ASSIGN_OR_RETURN(after, bump_vec_gen());
    SOV_RETURN_IF_ERROR(tx.commit());
  }
  apply_to_index(before, after, {}, added);
  return Status::ok();
}

Status KnowledgeBase::set_embed_model(const std::string& model, int32_t dim) {
  {
    SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, true));
    SOV_ASSIGN_OR_RETURN(uint64_t g, embed_gen());
    SOV_RETURN_IF_ERROR(set_meta("embed_model", model));
    SOV_RETURN_IF_ERROR(set_meta("embed_dim", std::to_string(dim)));
    SOV_RETURN_IF_ERROR(set_meta("embed_gen", std::to_string(g + 1)));
    SOV_RETURN_IF_ERROR(bump_vec_gen().status());
    SOV_RETURN_IF_ERROR(tx.commit());
  }
  index_.reset();
  index_dirty_ = false;
  return load_settings();
}

Status KnowledgeBase::set_progress(const std::string& phase, int64_t done, int64_t total) {
  if (phase.empty()) {
    SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("DELETE FROM meta WHERE key = 'progress'"));
    return st.run();
  }
  nlohmann::json j = {
      {"phase", phase}, {"done", done}, {"total", total}, {"pid", static_cast<int64_t>(::getpid())}};
  return set_meta("progress", j.dump());
}

Result<std::vector<std::pair<int64_t, std::string>>> KnowledgeBase::stale_chunks(int64_t after_id,
                                                                                 int32_t limit) {
  SOV_ASSIGN_OR_RETURN(uint64_t gen, embed_gen());
  SOV_ASSIGN_OR_RETURN(Stmt st, db_->prepare("SELECT id, heading, text FROM chunks WHERE id > ? AND "
                                             "(embedding IS NULL OR embed_gen != ?) ORDER BY id LIMIT ?"));
  st.bind(1, after_id).bind(2, static_cast<int64_t>(gen)).bind(3, int64_t{limit});
  std::vector<std::pair<int64_t, std::string>> out;
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.emplace_back(st.int64(0), embed_text(st.text(1), st.text(2)));
  }
  return out;
}

Result<std::unique_ptr<VectorIndex>> KnowledgeBase::rebuild_index(uint64_t gen) {
  SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(*db_, false));
  SOV_ASSIGN_OR_RETURN(uint64_t vg, vec_gen());
  SOV_ASSIGN_OR_RETURN(uint64_t eg, embed_gen());
  SOV_ASSIGN_OR_RETURN(int64_t n, db_->query_int("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL"));
  auto index = std::make_unique<VectorIndex>(embed_dim_, static_cast<size_t>(n) + 16);
  SOV_ASSIGN_OR_RETURN(
      Stmt st,
      db_->prepare("SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL AND embed_gen = ?"));
  st.bind(1, static_cast<int64_t>(eg));
  // In batches, inserted in parallel: building is the slow part (minutes at 100k vectors).
  const int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  const size_t dim = static_cast<size_t>(embed_dim_);
  std::vector<int64_t> ids;
  std::vector<float> flat;
  auto flush = [&] {
    index->add_batch(ids, flat, threads);
    ids.clear();
    flat.clear();
  };
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    std::span<const uint8_t> b = st.blob(1);
    if (b.size() != dim * sizeof(float)) continue;
    std::vector<float> v = blob_to_vector(b);
    ids.push_back(st.int64(0));
    flat.insert(flat.end(), v.begin(), v.end());
    if (ids.size() == 8192) flush();
  }
  flush();
  index->set_generation(vg);
  (void)gen;
  return index;
}

Result<VectorIndex*> KnowledgeBase::vector_index(bool persist) {
  if (embed_dim_ <= 0) return static_cast<VectorIndex*>(nullptr);
  SOV_ASSIGN_OR_RETURN(uint64_t gen, vec_gen());
  if (index_ && index_->generation() == gen) return index_.get();
  auto loaded = VectorIndex::load(dir_, embed_dim_);
  if (loaded && (*loaded)->generation() == gen) {
    index_ = std::move(loaded).value();
    index_dirty_ = false;
    return index_.get();
  }
  SOV_ASSIGN_OR_RETURN(index_, rebuild_index(gen));
  index_dirty_ = true;
  if (persist) SOV_RETURN_IF_ERROR(flush_vector_index());
  return index_.get();
}

Status KnowledgeBase::flush_vector_index() {
  if (!index_ || !index_dirty_) return Status::ok();
  SOV_RETURN_IF_ERROR(index_->save(dir_));
  index_dirty_ = false;
  return Status::ok();
}

}  // namespace sov::kb
