#include "router/audit.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

namespace sov::router {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  backend TEXT NOT NULL,
  model TEXT NOT NULL,
  api TEXT NOT NULL,
  rule TEXT NOT NULL,
  status INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  tokens_estimated INTEGER NOT NULL,
  redactions TEXT NOT NULL,
  cost_usd REAL NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_time ON requests(time_ms);
)";

Status sqlite_error(sqlite3* db, const std::string& what) {
  return Status::io_error(fmt::format("audit log: {}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

nlohmann::json AuditEntry::to_json() const {
  return nlohmann::json{{"id", id},
                        {"time", format_time_ms(time_ms)},
                        {"time_ms", time_ms},
                        {"backend", backend},
                        {"model", model},
                        {"api", api},
                        {"rule", rule},
                        {"status", status},
                        {"stream", stream},
                        {"prompt_tokens", prompt_tokens},
                        {"completion_tokens", completion_tokens},
                        {"tokens_estimated", tokens_estimated},
                        {"redactions", redactions},
                        {"cost_usd", cost_usd},
                        {"latency_ms", latency_ms},
                        {"error", error}};
}

AuditLog::~AuditLog() {
  if (db_) sqlite3_close_v2(db_);
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    if (!fs::exists(p.parent_path())) {
      fs::create_directories(p.parent_path(), ec);
      if (ec)
        return Status::io_error(
            fmt::format("audit log: cannot create {}: {}", p.parent_path().string(), ec.message()));
      ::chmod(p.parent_path().c_str(), 0700);
    }
  }
  // Create the file private before SQLite opens it.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error(fmt::format("audit log: cannot open {}", path));
  ::close(fd);
  std::unique_ptr<AuditLog> log(new AuditLog());
  if (sqlite3_open_v2(path.c_str(), &log->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    return sqlite_error(log->db_, "open " + path);
  sqlite3_busy_timeout(log->db_, 5000);
  char* err = nullptr;
  if (sqlite3_exec(log->db_, "PRAGMA journal_mode=WAL;", nullptr, nullptr, &err) != SQLITE_OK)
    sqlite3_free(err);
  if (sqlite3_exec(log->db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    return Status::io_error("audit log: schema: " + m);
  }
  return log;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open_read_only(const std::string& path) {
  if (!std::filesystem::exists(path))
    return Status::not_found(
        fmt::format("no audit log at {} (nothing has been sent to an upstream yet)", path));
  std::unique_ptr<AuditLog> log(new AuditLog());
  if (sqlite3_open_v2(path.c_str(), &log->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK)
    return sqlite_error(log->db_, "open " + path);
  sqlite3_busy_timeout(log->db_, 5000);
  return log;
}

Status AuditLog::record(const AuditEntry& e) {
  std::lock_guard lock(mu_);
  Stmt st;
  const char* sql =
      "INSERT INTO requests (time_ms, backend, model, api, rule, status, stream, prompt_tokens, "
      "completion_tokens, tokens_estimated, redactions, cost_usd, latency_ms, error) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) return sqlite_error(db_, "prepare");
  const std::string red = nlohmann::json(e.redactions).dump();
  sqlite3_bind_int64(st.s, 1, e.time_ms);
  sqlite3_bind_text(st.s, 2, e.backend.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, e.model.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, e.api.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 5, e.rule.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st.s, 6, e.status);
  sqlite3_bind_int(st.s, 7, e.stream ? 1 : 0);
  sqlite3_bind_int64(st.s, 8, e.prompt_tokens);
  sqlite3_bind_int64(st.s, 9, e.completion_tokens);
  sqlite3_bind_int(st.s, 10, e.tokens_estimated ? 1 : 0);
  sqlite3_bind_text(st.s, 11, red.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, 12, e.cost_usd);
  sqlite3_bind_int64(st.s, 13, e.latency_ms);
  sqlite3_bind_text(st.s, 14, e.error.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) return sqlite_error(db_, "insert");
  return Status::ok();
}

Result<std::vector<AuditEntry>> AuditLog::since(int64_t since_ms, size_t limit) const {
  std::lock_guard lock(mu_);
  Stmt st;
  const char* sql =
      "SELECT id, time_ms, backend, model, api, rule, status, stream, prompt_tokens, completion_tokens, "
      "tokens_estimated, redactions, cost_usd, latency_ms, error FROM ("
      "SELECT * FROM requests WHERE time_ms >= ? ORDER BY id DESC LIMIT ?) ORDER BY id";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) return sqlite_error(db_, "prepare");
  sqlite3_bind_int64(st.s, 1, since_ms);
  sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(limit));
  std::vector<AuditEntry> out;
  auto text = [&](int col) {
    const unsigned char* t = sqlite3_column_text(st.s, col);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    AuditEntry e;
    e.id = sqlite3_column_int64(st.s, 0);
    e.time_ms = sqlite3_column_int64(st.s, 1);
    e.backend = text(2);
    e.model = text(3);
    e.api = text(4);
    e.rule = text(5);
    e.status = sqlite3_column_int(st.s, 6);
    e.stream = sqlite3_column_int(st.s, 7) != 0;
    e.prompt_tokens = sqlite3_column_int64(st.s, 8);
    e.completion_tokens = sqlite3_column_int64(st.s, 9);
    e.tokens_estimated = sqlite3_column_int(st.s, 10) != 0;
    auto red = nlohmann::json::parse(text(11), nullptr, false);
    if (red.is_object()) {
      for (auto it = red.begin(); it != red.end(); ++it) {
        if (it->is_number_integer()) e.redactions[it.key()] = it->get<int>();
      }
    }
    e.cost_usd = sqlite3_column_double(st.s, 12);
    e.latency_ms = sqlite3_column_int64(st.s, 13);
    e.error = text(14);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "select");
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time_ms(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

Result<int64_t> parse_since(const std::string& text, int64_t now) {
  if (text.empty())
    return Status::invalid_argument("--since needs a duration (30m, 24h, 7d) or a date (YYYY-MM-DD)");
  // A duration: digits and a unit.
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i > 0 && i + 1 == text.size() && i <= 9) {
    const int64_t n = std::stoll(text.substr(0, i));
    int64_t unit = 0;
    switch (text[i]) {
      case 's': unit = 1000; break;
      case 'm': unit = 60 * 1000; break;
      case 'h': unit = 3600 * 1000; break;
      case 'd': unit = 86400 * 1000; break;
      case 'w': unit = 7 * 86400 * 1000LL; break;
      default: break;
    }
    if (unit) return now - n * unit;
  }
  // A date (UTC), optionally with a time.
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || *end != '\0') {
    tm = std::tm{};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
    if (!end || *end != '\0')
      return Status::invalid_argument(
          fmt::format("--since \"{}\": expected a duration like 30m, 24h, 7d or a date like 2025-01-31",
                      text.substr(0, 100)));
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace sov::router
