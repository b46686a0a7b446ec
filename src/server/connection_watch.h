// ConnectionWatch: tells whether the client of a request has closed its connection, so that
// generation stops when nobody is reading (also for non-streaming requests and during a
// long prompt evaluation, when nothing is being written that would fail).
//
// The socket is the one HttpServer serves the request on (HttpServer::current_socket(), so
// for_request() must be called on the handler's thread). It stays open while the handler or
// its content provider runs, so the descriptor cannot be reused under us. Outside an
// HttpServer connection thread closed() is always false.
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
