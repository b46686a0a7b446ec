// AuditLog: a record, in SQLite, of every request that left the machine: when, to which
// backend and model, through which API, the HTTP status, token counts, which redactions were
// applied (kinds and counts only, never the values), an estimated cost, latency, and the
// rule that sent it there. One row per upstream attempt that sent bytes; attempts that never
// connected (refused, offline mode) sent nothing and are not recorded.
//
// The database is created with mode 0600 in a directory created with mode 0700. Writes are
// serialised by the SQLite connection (opened in serialized mode); thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

struct sqlite3;

namespace sov::router {

struct AuditEntry {
  int64_t id = 0;
  int64_t time_ms = 0;  // Unix time in milliseconds
  std::string backend;
  std::string model;
  std::string api;   // "openai-chat", "ollama-generate", ...
  std::string rule;  // the routing rule (or "fallback:...")
  int status = 0;    // HTTP status; 0 when the transfer failed after sending
  bool stream = false;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool tokens_estimated = false;
  std::map<std::string, int> redactions;  // kind -> count
  double cost_usd = 0;
  int64_t latency_ms = 0;
  std::string error;  // "" on success

  nlohmann::json to_json() const;
};

class AuditLog {
 public:
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens (creating) the database at `path`.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  // Opens an existing database read-only (for `sov audit`); kNotFound when absent.
  static Result<std::unique_ptr<AuditLog>> open_read_only(const std::string& path);

  Status record(const AuditEntry& entry);
  // Entries with time_ms >= since_ms, oldest first: the newest `limit` of them.
  Result<std::vector<AuditEntry>> since(int64_t since_ms, size_t limit = 10000) const;

 private:
  AuditLog() = default;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
};

// Parses "--since" values: a duration ("30m", "24h", "7d", "90s") before `now_ms`, or a date
// "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SS" (UTC). Returns Unix milliseconds.
Result<int64_t> parse_since(const std::string& text, int64_t now_ms);

// Unix milliseconds now.
int64_t now_ms();

// "2025-01-31T12:00:00.123Z".
std::string format_time_ms(int64_t ms);

}  // namespace sov::router
