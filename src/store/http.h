// A small HTTP(S) GET client over libcurl for registry pulls: redirects followed (http and
// https only; https only unless insecure), byte ranges, a stall timeout (no bytes for N ms
// aborts the transfer), cancellation polled every 100 ms, and bodies streamed to a sink.
// Error responses (status >= 300 after redirects) never reach the sink; their first bytes
// are kept in HttpResponse::body for messages.
//
// Transport failures (connection refused or dropped, timeouts, stalls) are kIoError, which
// callers may retry; cancellation is kCancelled. Each call uses its own curl handle, so
// calls from different threads are independent. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::store {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Inclusive byte range; `last` absent means "to the end".
  std::optional<uint64_t> range_first;
  std::optional<uint64_t> range_last;
  bool insecure = false;  // plain http allowed in redirects, TLS certificates not verified
  int connect_timeout_ms = 15000;
  int stall_timeout_ms = 30000;
  std::function<bool()> cancelled;  // polled every 100 ms; true aborts with kCancelled
  size_t max_body = 4u << 20;       // for bodies kept in memory (no sink, or error bodies)
  // Called once before the first body byte of a 2xx response with its status and
  // headers (lowercase names); an error aborts the transfer with that status.
  std::function<Status(long status, const std::map<std::string, std::string>& headers)> on_headers;
};

struct HttpResponse {
  long status = 0;
  std::string effective_url;
  std::map<std::string, std::string> headers;  // of the final response; lowercase names
  std::string body;                            // when no sink was given, or an error body
  uint64_t body_bytes = 0;                     // bytes delivered (to the sink or body)

  std::string header(const std::string& lower_name) const;
};

// Receives body bytes of a successful (2xx) response; return false to abort the transfer.
using BodySink = std::function<bool(const char* data, size_t n)>;

// GET. Returns the response for any HTTP status; kIoError only for transport failures,
// kCancelled when cancelled. A sink that returns false ends the call with the status the
// sink stored in `*sink_status` (or kIoError).
Result<HttpResponse> http_get(const HttpRequest& request, const BodySink& sink = nullptr,
                              Status* sink_status = nullptr);

// True for http(s) URLs whose host is 127.0.0.1, ::1 or localhost.
bool is_loopback_url(std::string_view url);
// "https" or "http" (lowercase), or "" for anything else.
std::string url_scheme(std::string_view url);
// Percent-encodes a query value.
std::string url_encode(std::string_view s);

}  // namespace sov::store
