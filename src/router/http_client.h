// HttpStream: one HTTP(S) request to an upstream over libcurl, read incrementally so that a
// streamed answer can be passed on chunk by chunk without buffering.
//
// open() sends the request and returns once the response status and headers have arrived
// (any status), or with an error when the transfer failed before that. read() then returns
// body bytes as they arrive. Transport failures (refused, reset, timeouts) are kIoError;
// cancellation is kCancelled. No redirects are followed (a redirect could carry the request
// somewhere the user did not configure); only http and https are allowed.
//
// Offline guard (`offline = true`): the target must be a loopback address. The URL's host is
// checked *before* anything is resolved or connected: an IP literal must be loopback, a name
// must be "localhost" (pinned to 127.0.0.1, never sent to DNS); anything else fails at once
// with kUnsupported ("offline mode: ...") and no connection attempt. As a second line, every
// socket curl opens is checked against loopback at connect time, and proxies are disabled.
//
// The transfer is driven by the caller's thread (curl's multi interface, polled every
// 50 ms), so there is no background thread. An HttpStream is used by one thread at a time;
// cancel() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::router {

struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  int connect_timeout_ms = 5000;
  int stall_timeout_ms = 60000;  // no byte for this long aborts (before and after headers)
  int total_timeout_ms = 0;      // 0: no limit
  bool offline = false;          // only loopback addresses
  // For tests of the connect-time guard: skip the early host check (never set otherwise).
  bool skip_offline_precheck_for_test = false;
};

class HttpStream {
 public:
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Sends the request and waits for the response headers. The error Status of a failed
  // open says whether anything was sent through `*sent` (when not null).
  static Result<std::unique_ptr<HttpStream>> open(const HttpCall& call, bool* sent = nullptr);

  long status() const { return status_; }
  // Response headers with lowercase names.
  const std::map<std::string, std::string>& headers() const { return headers_; }
  std::string header(const std::string& lower_name) const;

  // The next body bytes into *chunk; false at the end of the body.
  Result<bool> read(std::string* chunk);
  // The rest of the body (at most `max` bytes; more is kResourceExhausted).
  Result<std::string> read_all(size_t max = 16u << 20);

  void cancel() { cancelled_ = true; }

 private:
  HttpStream() = default;
  // Runs curl until `ready()` or the transfer ends; returns the transfer's error if it ended
  // badly.
  Status pump(const std::function<bool()>& ready);
  static size_t on_header(char* data, size_t size, size_t n, void* user);
  static size_t on_body(char* data, size_t size, size_t n, void* user);

  void* easy_ = nullptr;
  void* multi_ = nullptr;
  void* header_list_ = nullptr;
  void* resolve_list_ = nullptr;
  HttpCall call_;
  long status_ = 0;
  bool headers_done_ = false;
  bool finished_ = false;
  Status transfer_status_;
  std::map<std::string, std::string> headers_;
  std::string buffer_;
  std::string blocked_address_;  // set by the connect-time guard
  std::chrono::steady_clock::time_point start_, last_activity_;
  std::atomic<bool> cancelled_{false};
};

// Checks the host of `url` for offline mode without resolving anything: OK for loopback IP
// literals and "localhost"; kUnsupported otherwise. Also refuses non-http(s) URLs.
Status check_loopback_url(std::string_view url);

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z given as text.
bool is_loopback_ip(std::string_view ip);

}  // namespace sov::router
