// ConnectionWatch: tells whether the client of a request has closed its connection, so that
// generation stops when nobody is reading (also for non-streaming requests and during a
// long prompt evaluation, when nothing is being written that would fail).
//
// cpp-httplib does not expose a request's socket, so the socket is found once per request
// by matching the request's local and remote address and port (a TCP connection's unique
// 4-tuple) against the process's open sockets. closed() then polls it without blocking.
// The socket stays open while the handler or its content provider runs, so the descriptor
// cannot be reused under us. When no socket matches (not a TCP socket), closed() is false.
// The scan only reads (fstat, getsockname, getpeername) descriptors that other threads may be
// closing at the same moment; that is harmless (no other live socket has our 4-tuple), but
// ThreadSanitizer reports it as a race on those descriptors.
//
// Copyable; closed() is thread-safe.
#pragma once

#include <httplib.h>

namespace sov::server {

class ConnectionWatch {
 public:
  ConnectionWatch() = default;
  static ConnectionWatch for_request(const httplib::Request& req);
  // True when the peer closed or reset the connection.
  bool closed() const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace sov::server
