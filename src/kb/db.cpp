#include "kb/db.h"

#include <fmt/format.h>

namespace sov::kb {
namespace {

Status sqlite_error(sqlite3* db, std::string_view what) {
  int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
  std::string msg = fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory");
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::corrupt(msg);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::resource_exhausted(msg);
  if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_CANTOPEN || code == SQLITE_READONLY)
    return Status::io_error(msg);
  return Status::internal(msg);
}

}  // namespace

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    db_ = o.db_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::span<const uint8_t> v) {
  sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "sqlite step");
}

Status Stmt::run() {
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, step());
    if (!row) break;
  }
  reset();
  return Status::ok();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::span<const uint8_t> Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqlite_error(raw, "open " + path);
    sqlite3_close_v2(raw);
    return s;
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 0);
  // WAL: readers see a consistent snapshot while one writer commits; synchronous=NORMAL in
  // WAL mode loses at most the last commits on power loss, never consistency.
  SOV_RETURN_IF_ERROR(
      db->exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"));
  return db;
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

Status Db::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "error";
    sqlite3_free(err);
    Status s = sqlite_error(db_, "sqlite");
    return Status(s.code(), "sqlite: " + msg);
  }
  return Status::ok();
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, "sqlite prepare");
  return Stmt(s, db_);
}

Result<std::optional<std::string>> Db::query_text(std::string_view sql, std::string_view arg) {
  SOV_ASSIGN_OR_RETURN(Stmt st, prepare(sql));
  if (!arg.empty()) st.bind(1, arg);
  SOV_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<int64_t> Db::query_int(std::string_view sql) {
  SOV_ASSIGN_OR_RETURN(Stmt st, prepare(sql));
  SOV_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.int64(0) : 0;
}

Result<Transaction> Transaction::begin(Db& db, bool immediate) {
  SOV_RETURN_IF_ERROR(db.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Db* db = db_;
  db_ = nullptr;
  Status s = db->exec("COMMIT");
  if (!s) (void)db->exec("ROLLBACK");
  return s;
}

}  // namespace sov::kb
