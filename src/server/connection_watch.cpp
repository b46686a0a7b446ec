#include "server/connection_watch.h"

#include <poll.h>
#include <sys/socket.h>

#include "server/http_server.h"

namespace sov::server {

ConnectionWatch ConnectionWatch::for_request(const httplib::Request&) {
  ConnectionWatch w;
  w.fd_ = HttpServer::current_socket();
  return w;
}

bool ConnectionWatch::closed() const {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    // Readable: either pipelined data (still connected) or end of stream.
    char c;
    ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;
  }
  return false;
}

}  // namespace sov::server
