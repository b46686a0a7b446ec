#include "server/http_server.h"

#include <sys/socket.h>

#include <string_view>

#include "base/log.h"

// httplib::Server::process_and_close_socket (serving one connection) is virtual but
// private, so an override cannot name the base version; it is reached through its symbol in
// libcpp-httplib (Itanium C++ ABI: `this` first, as for any member function). Pinned to
// httplib 0.11 (Debian 12), whose ABI this is; a link error names this symbol if it changes.
extern "C" bool _ZN7httplib6Server24process_and_close_socketEi(httplib::Server* self, socket_t sock);
static_assert(std::string_view(CPPHTTPLIB_VERSION).starts_with("0.11."),
              "check the process_and_close_socket call below against this httplib version");

namespace sov::server {
namespace {

// The connection the current pool thread serves (httplib runs one connection per thread,
// from process_and_close_socket to its end).
// `t_id` tells this connection from a later one that reuses the socket number.
thread_local socket_t t_socket = INVALID_SOCKET;
thread_local uint64_t t_id = 0;

constexpr auto kWatchPeriod = std::chrono::milliseconds(100);
// How long a connection closed after its response stays open for the client to read it.
constexpr auto kLinger = std::chrono::seconds(1);

// The Content-Length of a request, or -1 when absent or malformed.
int64_t content_length(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return -1;
  const std::string text = req.get_header_value("Content-Length");
  int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > (int64_t{1} << 50)) return -1;
    n = n * 10 + (c - '0');
  }
  return text.empty() ? -1 : n;
}

}  // namespace

HttpServer::HttpServer(SlowClientLimits limits) : limits_(limits), watchdog_([this] { watch(); }) {
  // Streamed tokens are small writes: without TCP_NODELAY, Nagle's algorithm holds each one
  // until the previous is acknowledged, which a client's delayed ACK stretches to ~40 ms.
  set_tcp_nodelay(true);
}

HttpServer::~HttpServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watchdog_.join();
}

HttpServer::Handler HttpServer::mark_started(Handler handler) {
  return [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    set_deadline(false, {});
    handler(req, res);
  };
}

HttpServer& HttpServer::Get(const std::string& pattern, Handler handler) {
  httplib::Server::Get(pattern, mark_started(std::move(handler)));
  return *this;
}

HttpServer& HttpServer::Post(const std::string& pattern, Handler handler) {
  httplib::Server::Post(pattern, mark_started(std::move(handler)));
  return *this;
}

HttpServer& HttpServer::Post(const std::string& pattern, HandlerWithContentReader handler) {
  httplib::Server::Post(
      pattern, [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                                    const httplib::ContentReader& reader) {
        set_deadline(false, {});
        handler(req, res, reader);
      });
  return *this;
}

HttpServer& HttpServer::Delete(const std::string& pattern, Handler handler) {
  httplib::Server::Delete(pattern, mark_started(std::move(handler)));
  return *this;
}

void HttpServer::headers_read(const httplib::Request& req) {
  int64_t body = content_length(req);
  if (body < 0 && req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos)
    body = static_cast<int64_t>(limits_.max_body_bytes);
  const auto body_time =
      std::chrono::microseconds(std::max<int64_t>(body, 0) * 1'000'000 / static_cast<int64_t>(kMinBodyRate));
  set_deadline(true, limits_.header_timeout + body_time);
}

void HttpServer::response_sent() {
  update([&](Connection& c) {
    c.armed = true;
    c.deadline =
        Clock::now() + (c.closing ? Clock::duration(kLinger) : limits_.keep_alive + limits_.header_timeout);
  });
}

void HttpServer::close_after_response() {
  update([](Connection& c) { c.closing = true; });
}

socket_t HttpServer::current_socket() {
  return t_socket;
}

uint64_t HttpServer::slow_clients_cut() const {
  std::lock_guard lock(mu_);
  return cut_;
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  {
    std::lock_guard lock(mu_);
    t_id = ++next_id_;
    open_[sock] = Connection{.deadline = Clock::now() + limits_.header_timeout, .armed = true, .id = t_id};
  }
  t_socket = sock;
  const bool ok = _ZN7httplib6Server24process_and_close_socketEi(this, sock);
  t_socket = INVALID_SOCKET;
  // httplib has closed the socket: its number may already serve a new connection.
  std::lock_guard lock(mu_);
  auto it = open_.find(sock);
  if (it != open_.end() && it->second.id == t_id) open_.erase(it);
  return ok;
}

void HttpServer::update(const std::function<void(Connection&)>& change) {
  if (t_socket == INVALID_SOCKET) return;
  std::lock_guard lock(mu_);
  auto it = open_.find(t_socket);
  if (it != open_.end() && it->second.id == t_id) change(it->second);
}

void HttpServer::set_deadline(bool armed, Clock::duration from_now) {
  update([&](Connection& c) {
    c.armed = armed;
    c.deadline = Clock::now() + from_now;
  });
}

void HttpServer::watch() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, kWatchPeriod);
    const auto now = Clock::now();
    for (auto& [sock, c] : open_) {
      if (!c.armed || now < c.deadline) continue;
      ::shutdown(sock, SHUT_RDWR);
      c.armed = false;
      if (!c.closing) {
        ++cut_;
        log::warn("closed a connection whose client sent its request too slowly");
      }
    }
  }
}

}  // namespace sov::server
