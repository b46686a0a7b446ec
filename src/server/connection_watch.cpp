#include "server/connection_watch.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace sov::server {
namespace {

bool address_of(const sockaddr_storage& sa, socklen_t len, std::string* host, int* port) {
  char h[NI_MAXHOST], s[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&sa), len, h, sizeof(h), s, sizeof(s),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  *host = h;
  *port = std::atoi(s);
  return true;
}

bool matches(int fd, const httplib::Request& req) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_storage peer{}, local{};
  socklen_t plen = sizeof(peer), llen = sizeof(local);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) return false;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) return false;
  std::string ph, lh;
  int pp = -1, lp = -1;
  if (!address_of(peer, plen, &ph, &pp) || !address_of(local, llen, &lh, &lp)) return false;
  return pp == req.remote_port && lp == req.local_port && ph == req.remote_addr && lh == req.local_addr;
}

}  // namespace

ConnectionWatch ConnectionWatch::for_request(const httplib::Request& req) {
  ConnectionWatch w;
  if (req.remote_port <= 0 || req.local_port <= 0) return w;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return w;
  while (dirent* de = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(de->d_name, &end, 10);
    if (end == de->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    if (matches(static_cast<int>(fd), req)) {
      w.fd_ = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
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
