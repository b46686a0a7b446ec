// HttpServer: httplib's server with slow clients cut off, so that a few connections that
// trickle their request (slowloris) cannot hold every connection thread.
//
// httplib serves each connection on one pool thread and only bounds each read (30 s), so a
// client sending a header byte every few seconds holds its thread forever. Here every
// connection has a deadline while the server waits for the client:
//   - the request line and headers: `header_timeout` from the connection's start, or from
//     the end of the previous response plus the keep-alive wait;
//   - a request body: `header_timeout` plus its length at kMinBodyRate (a chunked body: the
//     largest body allowed);
//   - none while a handler runs (a long streamed answer, a slow reader) or for blob uploads,
//     whose handler enforces the rate itself (post_blob).
// A watchdog thread shuts down the socket of a connection past its deadline; httplib then
// ends it as if the client had gone. Handlers are marked as started by the route
// registration methods below, which hide httplib's own (every route must be registered
// through an HttpServer&).
//
// Thread-safety: registration before listening, as httplib; everything else from httplib's
// threads. The watchdog stops in the destructor, after httplib's threads have ended.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace sov::server {

// The slowest request body accepted (256 KiB/s), after `header_timeout` of grace.
inline constexpr uint64_t kMinBodyRate = 256 * 1024;

struct SlowClientLimits {
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::seconds keep_alive{5};  // httplib's keep-alive wait between requests
  uint64_t max_body_bytes = 32u << 20;
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(SlowClientLimits limits);
  ~HttpServer() override;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  HttpServer& Get(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, HandlerWithContentReader handler);
  HttpServer& Delete(const std::string& pattern, Handler handler);

  // From the pre-routing handler: the headers are in; the body (if any) is next.
  void headers_read(const httplib::Request& req);
  // From the logger: the response is out; the next request may follow on this connection.
  void response_sent();
  // From a handler that leaves a request body unread: the connection is cut a moment after
  // the response (the unread bytes must not be taken as a next request).
  void close_after_response();
  // Connections cut off so far.
  uint64_t slow_clients_cut() const;
  // The socket of the connection the calling thread serves (INVALID_SOCKET outside a
  // connection thread of an HttpServer); stays open until the handler or its content
  // provider returns.
  static socket_t current_socket();

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection {
    Clock::time_point deadline;
    bool armed = false;
    bool closing = false;  // close_after_response()
    uint64_t id = 0;       // tells connections that reused a socket number apart
  };

  bool process_and_close_socket(socket_t sock) override;
  // Changes this thread's connection (none: nothing happens), under mu_.
  void update(const std::function<void(Connection&)>& change);
  // Sets (or, with `armed` false, clears) the deadline of this thread's connection.
  void set_deadline(bool armed, Clock::duration from_now);
  Handler mark_started(Handler handler);
  void watch();

  const SlowClientLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t cut_ = 0;
  uint64_t next_id_ = 0;
  std::map<socket_t, Connection> open_;
  std::thread watchdog_;
};

}  // namespace sov::server
