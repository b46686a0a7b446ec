// Privacy guard, redaction half: replaces e-mail addresses, phone numbers, secrets (API keys
// such as sk-..., AKIA..., ghp_..., github_pat_..., xox?-..., AIza..., JWTs, bearer tokens,
// PEM private keys) and custom regexes with placeholders like «EMAIL_1» before a request
// leaves the machine, and puts the original values back into the answer.
//
// Redactor holds the compiled patterns (PCRE2, JIT when available); it is immutable and
// thread-safe. A Redaction is the state of one request: the placeholder table (the same value
// always gets the same placeholder) and counts per kind; it is used by one thread.
// StreamRestorer restores placeholders in a stream of text chunks, holding back the tail of a
// chunk that may be the start of a placeholder cut by a chunk boundary.
//
// Values never appear in logs or the audit log: only kinds and counts do.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "router/config.h"

namespace sov::router {

class Redaction;

class Redactor {
 public:
  ~Redactor();
  Redactor(Redactor&&) noexcept;
  Redactor& operator=(Redactor&&) noexcept;
  // Compiles the enabled built-in patterns and the custom ones (an invalid custom regex is
  // kInvalidArgument naming it).
  static Result<Redactor> create(const RedactionConfig& config);

  bool enabled() const { return !patterns_.empty(); }
  // Redacts `text` in place, recording placeholders in `state`.
  void redact(std::string* text, Redaction* state) const;

 private:
  struct Pattern;
  Redactor() = default;
  std::vector<std::unique_ptr<Pattern>> patterns_;
};

class Redaction {
 public:
  // Placeholder for a value of `kind` ("email" -> «EMAIL_1»).
  std::string placeholder_for(const std::string& kind, const std::string& value);
  // Replaces every known placeholder in `text` with its value.
  std::string restore(std::string_view text) const;
  // Redactions applied, by kind (each occurrence counts).
  const std::map<std::string, int>& counts() const { return counts_; }
  int total() const;
  bool empty() const { return values_.empty(); }

 private:
  std::map<std::string, std::string> by_value_;  // kind + '\0' + value -> placeholder
  std::map<std::string, std::string> values_;    // placeholder -> value
  std::map<std::string, int> next_;              // kind -> next number
  std::map<std::string, int> counts_;
};

class StreamRestorer {
 public:
  explicit StreamRestorer(const Redaction* state) : state_(state) {}
  // Restored text that is safe to emit now.
  std::string push(std::string_view chunk);
  // The held-back rest (at the end of the stream).
  std::string flush();

 private:
  const Redaction* state_;
  std::string pending_;
};

// The placeholder delimiters (U+00AB, U+00BB).
inline constexpr std::string_view kOpen = "\xC2\xAB";
inline constexpr std::string_view kClose = "\xC2\xBB";

}  // namespace sov::router
