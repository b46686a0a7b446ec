// Status and Result<T>: the error values returned at every I/O, parse and API boundary.
//
// A Status is either ok or carries an error code and a human-readable message that names
// what went wrong and where. Result<T> holds either a T or a non-ok Status. Both are
// plain values: cheap to move, safe to copy, no exceptions involved. Thread-compatible.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sov {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // the caller passed something malformed (a bad name, a bad option)
  kNotFound,          // a file, key, model or tensor does not exist
  kCorrupt,           // data on disk or on the wire is malformed
  kUnsupported,       // well-formed but not something we handle (a version, a type, an arch)
  kOutOfRange,        // a size or index beyond a limit (context overflow, huge counts)
  kIoError,           // the operating system refused a read, write or map
  kResourceExhausted, // memory, queue or disk full
  kCancelled,         // the caller or client gave up
  kInternal,          // a bug: an invariant did not hold
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status corrupt(std::string m) { return {ErrorCode::kCorrupt, std::move(m)}; }
  static Status unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }
  static Status out_of_range(std::string m) { return {ErrorCode::kOutOfRange, std::move(m)}; }
  static Status io_error(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
  static Status resource_exhausted(std::string m) { return {ErrorCode::kResourceExhausted, std::move(m)}; }
  static Status cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }
  static Status internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: <message>", or "ok".
  std::string to_string() const;

  // Returns a copy with "context: " put in front of the message.
  Status with_context(const std::string& context) const {
    return Status(code_, context + ": " + message_);
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).is_ok() && "Result built from an ok Status");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sov

// Early-return helpers for functions that return Status or Result<U>.
#define SOV_CONCAT_INNER(a, b) a##b
#define SOV_CONCAT(a, b) SOV_CONCAT_INNER(a, b)

#define SOV_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::sov::Status sov_status_ = (expr);    \
    if (!sov_status_.is_ok()) return sov_status_; \
  } while (0)

#define SOV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.is_ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#define SOV_ASSIGN_OR_RETURN(lhs, expr) \
  SOV_ASSIGN_OR_RETURN_IMPL(SOV_CONCAT(sov_result_, __LINE__), lhs, expr)
