// A thin RAII layer over SQLite for the knowledge base: one connection (Db) and prepared
// statements (Stmt) with errors as Status. Nothing here knows the schema.
//
// A Db is used by one thread at a time (SQLite's default serialized mode makes misuse safe
// but slow); open one connection per thread. A Stmt must not outlive its Db.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::kb {

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : stmt_(o.stmt_), db_(o.db_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binding is 1-based like SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_blob(int i, std::span<const uint8_t> v);
  Stmt& bind_null(int i);

  // True while a row is available; false when done. Errors as Status.
  Result<bool> step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  Status run();
  void reset();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  std::span<const uint8_t> blob(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  friend class Db;
  Stmt(sqlite3_stmt* s, sqlite3* db) : stmt_(s), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

class Db {
 public:
  // Opens (creating when `create`) the database with WAL, foreign keys and a busy timeout.
  static Result<std::unique_ptr<Db>> open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(const std::string& sql);
  Result<Stmt> prepare(std::string_view sql);
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }

  // Single-value helpers.
  Result<std::optional<std::string>> query_text(std::string_view sql, std::string_view arg = {});
  Result<int64_t> query_int(std::string_view sql);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A transaction that rolls back unless committed. `immediate` takes the write lock at once
// (writers), otherwise it is a read snapshot (BEGIN DEFERRED + a first read).
class Transaction {
 public:
  static Result<Transaction> begin(Db& db, bool immediate);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace sov::kb
