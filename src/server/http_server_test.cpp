// HttpServer: connection options set on every accepted socket.
#include "server/http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <thread>

namespace sov::server {
namespace {

TEST(HttpServer, ConnectionsHaveNoDelay) {
  HttpServer server(SlowClientLimits{});
  server.Get("/nodelay", [](const httplib::Request&, httplib::Response& res) {
    int on = -1;
    socklen_t len = sizeof(on);
    const bool ok = getsockopt(HttpServer::current_socket(), IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0;
    res.set_content(ok ? std::to_string(on) : "getsockopt failed", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread listener([&] { server.listen_after_bind(); });  // the bound socket already queues clients
  httplib::Client client("127.0.0.1", port);
  const auto res = client.Get("/nodelay");
  server.stop();
  listener.join();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "1");  // streamed tokens must not wait for Nagle's algorithm
}

}  // namespace
}  // namespace sov::server
