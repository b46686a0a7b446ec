// Security tests over real HTTP against an in-process server (issue 13): every route the
// server registers (read from the route sources, so a new route cannot escape the checks)
// must refuse a missing API key (except the public health/UI routes), a foreign Host (DNS
// rebinding) and a foreign Origin; oversized bodies and headers are refused; malformed
// UTF-8, huge JSON nesting and number overflow are 400s, never a crash; the server keeps
// serving afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "base/testdata.h"
#include "kb/chunk.h"
#include "kb/extract.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

using nlohmann::json;
using test::TestServer;

struct Route {
  std::string method;
  std::string path;  // a concrete path matching the registered pattern
};

// Routes registered in src/server/*.cpp: http.Get/Post/Delete/Put/Patch("pattern", ...).
// Regex patterns get a sample value for each capture.
std::vector<Route> registered_routes() {
  std::vector<Route> out;
  const std::regex call(R"re(http\.(Get|Post|Delete|Put|Patch)\(\s*(?:R"\((.*?)\)"|"([^"]*)"))re");
  for (const auto& entry : std::filesystem::directory_iterator("src/server")) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".cpp" || file.find("_test") != std::string::npos) continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
      std::string method = (*it)[1];
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      std::string path = (*it)[2].matched ? (*it)[2].str() : (*it)[3].str();
      path = std::regex_replace(path, std::regex(R"(\([^)]*\))"), "sample");
      path = std::regex_replace(path, std::regex(R"(\[[^\]]*\]\+)"), "app.js");
      out.push_back({method, path});
    }
  }
  return out;
}

// Public without a key: health checks and the browser UI's static files (docs/security.md).
bool is_public(const Route& r) {
  static const std::set<std::string> kPublic = {
      "/", "/health", "/index.html", "/sw.js", "/manifest.webmanifest", "/favicon.ico"};
  return r.method == "GET" && (kPublic.count(r.path) || r.path.rfind("/assets/", 0) == 0);
}

httplib::Result send(httplib::Client& c, const Route& r, const httplib::Headers& headers,
                     const std::string& body = "{}") {
  if (r.method == "GET") return c.Get(r.path, headers);
  if (r.method == "DELETE") return c.Delete(r.path, headers, body, "application/json");
  if (r.method == "PUT") return c.Put(r.path, headers, body, "application/json");
  if (r.method == "PATCH") return c.Patch(r.path, headers, body, "application/json");
  return c.Post(r.path, headers, body, "application/json");
}

void expect_alive(httplib::Client& c, const httplib::Headers& h = {}) {
  auto res = c.Get("/health", h);
  ASSERT_TRUE(res) << "server died";
  EXPECT_EQ(res->status, 200);
}

TEST(Security, RouteListIsComplete) {
  // The scan must find the routes we know of; if it found nothing every loop below would
  // pass vacuously.
  const auto routes = registered_routes();
  std::set<std::string> seen;
  for (const auto& r : routes) seen.insert(r.method + " " + r.path);
  for (const char* want :
       {"GET /", "GET /health", "GET /metrics", "POST /api/chat", "POST /api/generate",
        "POST /v1/chat/completions", "POST /v1/completions", "POST /api/embed", "GET /api/kb",
        "POST /api/kb/sample/query", "DELETE /api/kb/sample", "POST /api/route/explain", "GET /api/audit",
        "POST /api/pull", "POST /api/blobs/sample", "DELETE /api/delete", "GET /v1/models/sample",
        "GET /api/tags"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
  EXPECT_GE(routes.size(), 30u);
}

TEST(Security, ApiKeyHostAndOriginOnEveryRoute) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) { c.api_key = "k3y"; });
  auto c = s.client();
  const httplib::Headers key = {{"Authorization", "Bearer k3y"}};
  auto routes = registered_routes();
  routes.push_back({"GET", "/no/such/route"});  // unknown paths reveal nothing without a key
  routes.push_back({"POST", "/api/no-such"});
  for (const auto& r : routes) {
    SCOPED_TRACE(r.method + " " + r.path);
    auto no_key = send(c, r, {});
    ASSERT_TRUE(no_key);
    if (is_public(r)) {
      EXPECT_NE(no_key->status, 401);
    } else {
      EXPECT_EQ(no_key->status, 401) << no_key->body;
      EXPECT_EQ(no_key->get_header_value("WWW-Authenticate"), "Bearer");
    }
    auto wrong = send(c, r, {{"Authorization", "Bearer k3y-not"}});
    ASSERT_TRUE(wrong);
    if (!is_public(r)) EXPECT_EQ(wrong->status, 401);

    // DNS rebinding and cross-origin pages are refused on every route, public or not, even
    // with the right key.
    httplib::Headers rebinding = key;
    rebinding.emplace("Host", "evil.example:11434");
    auto rb = send(c, r, rebinding);
    ASSERT_TRUE(rb);
    EXPECT_EQ(rb->status, 403);
    httplib::Headers foreign = key;
    foreign.emplace("Origin", "https://evil.example");
    auto fo = send(c, r, foreign);
    ASSERT_TRUE(fo);
    EXPECT_EQ(fo->status, 403);
    EXPECT_FALSE(fo->has_header("Access-Control-Allow-Origin"));
  }
  expect_alive(c);
}

TEST(Security, OversizedBodiesAndHeadersOnEveryPostRoute) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir, [](ServerConfig& c) { c.max_body_bytes = 4096; });
  auto c = s.client();
  const std::string big = R"({"model":"stories260K","prompt":")" + std::string(64 << 10, 'a') + R"("})";
  for (const auto& r : registered_routes()) {
    if (r.method != "POST" || r.path.rfind("/api/blobs/", 0) == 0) continue;  // blobs: upload limit
    SCOPED_TRACE(r.path);
    auto res = send(c, r, {}, big);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413) << res->body;
  }
  httplib::Headers huge;
  for (int i = 0; i < 40; ++i) huge.emplace("X-Pad-" + std::to_string(i), std::string(2000, 'x'));
  auto res = c.Get("/api/tags", huge);
  // httplib itself drops a request whose header lines exceed its buffer; either way no 200.
  if (res) EXPECT_EQ(res->status, 431);
  expect_alive(c);
}

TEST(Security, HostileJsonBodiesAre400s) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  const std::string deep_array(100000, '[');
  const std::string deep_balanced =
      R"({"model":"stories260K","messages":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const std::string deep_object = [] {
    std::string t;
    for (int i = 0; i < 50000; ++i) t += R"({"a":)";
    t += "1";
    t += std::string(50000, '}');
    return t;
  }();
  const std::vector<std::string> bodies = {deep_array,
                                           deep_balanced,
                                           deep_object,
                                           R"({"prompt": 1e99999999})",
                                           R"({"model": "stories260K", "prompt": "x")",
                                           "\xff\xfe{}",
                                           "[]"};
  for (const auto& r : registered_routes()) {
    if (r.method != "POST" || r.path.rfind("/api/blobs/", 0) == 0) continue;
    for (size_t i = 0; i < bodies.size(); ++i) {
      SCOPED_TRACE(r.path + " body " + std::to_string(i));
      auto res = c.Post(r.path, bodies[i], "application/json");
      ASSERT_TRUE(res) << "no response (crash?)";
      EXPECT_GE(res->status, 400) << res->body;
      if (r.path != "/api/push") EXPECT_LT(res->status, 500) << res->body;  // push: always 501
    }
  }
  expect_alive(c);
}

TEST(Security, MalformedUtf8InPromptsIsHandled) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer s(dir);
  auto c = s.client();
  // Invalid UTF-8 inside JSON strings is already refused by the JSON parser (400).
  const std::string raw = std::string(R"({"model":"stories260K","prompt":"a)") + "\xc3\x28\xff\xed\xa0\x80" +
                          R"(","stream":false,"options":{"num_predict":2}})";
  auto res = c.Post("/api/generate", raw, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  // Lone surrogates through escapes are valid JSON: generation must still work.
  const std::string escaped = R"({"model":"stories260K","prompt":"a\ud800b\udfff","stream":false,)"
                              R"("options":{"num_predict":2}})";
  res = c.Post("/api/generate", escaped, "application/json");
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->status == 200 || res->status == 400) << res->status << " " << res->body;
  json chat = {{"model", "stories260K"},
               {"stream", false},
               {"messages", {{{"role", "user"}, {"content", "\xef\xbf\xbd\xf0\x9f\x98\x80 z"}}}},
               {"options", {{"num_predict", 2}}}};
  res = c.Post("/api/chat", chat.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto out = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(out.is_object());
  expect_alive(c);
}

// A document bomb for the knowledge base: 1M nested elements, unterminated comments and
// entity floods. The readers are linear and their output never exceeds the input (plus a
// constant per line), so memory stays bounded by max_file_bytes.
TEST(Security, HtmlBombStaysBounded) {
  std::string html;
  for (int i = 0; i < 1000000; ++i) html += "<div><h1>";
  html += std::string(100000, '&') + "&amp;&#x10FFFF;&#99999999999;<!-- never closed <script>";
  const auto c = kb::classify("bomb.html", html);
  ASSERT_TRUE(c.indexable) << c.reason;
  auto text = kb::extract_text(c, html);
  ASSERT_TRUE(text.is_ok());
  EXPECT_LE(text->size(), html.size());
  const auto chunks = kb::chunk_text(*text, c.format, kb::ChunkOptions{});
  size_t total = 0;
  for (const auto& ch : chunks) total += ch.text.size();
  EXPECT_LE(total, 2 * html.size());  // overlap repeats at most a part of each chunk
}

// A raw loopback connection, for clients that misbehave below HTTP.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{0, 50 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(std::string_view text) { (void)::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  // Reads what is there (kept in response()); true once the server has closed.
  bool closed_by_server() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) response_.append(buf, static_cast<size_t>(n));
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  const std::string& response() const { return response_; }

 private:
  int fd_;
  bool connected_ = false;
  std::string response_;
};

// Sends `piece` on every connection every 100 ms (as a slowloris client does) until each has
// been closed by the server or `give_up` has passed; the number closed.
size_t trickle_until_closed(std::vector<std::unique_ptr<RawConnection>>& conns, std::string_view piece,
                            std::chrono::seconds give_up) {
  const auto end = std::chrono::steady_clock::now() + give_up;
  std::vector<bool> closed(conns.size(), false);
  size_t n_closed = 0;
  while (n_closed < conns.size() && std::chrono::steady_clock::now() < end) {
    for (size_t i = 0; i < conns.size(); ++i) {
      if (closed[i]) continue;
      conns[i]->send(piece);
      if (conns[i]->closed_by_server()) {
        closed[i] = true;
        ++n_closed;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return n_closed;
}

void slow_limits(ServerConfig& c) {
  c.http_threads = 4;
  c.header_timeout_ms = 1000;
}

TEST(SlowClients, TricklingHeadersCannotHoldTheConnectionThreads) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer server(dir, slow_limits);
  // Twice as many slowloris connections as connection threads, sending a header line every
  // 100 ms (each read is far within httplib's 30 s read timeout).
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server.port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->send("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  std::atomic<size_t> closed{0};
  std::thread trickler(
      [&] { closed = trickle_until_closed(slow, "X-Slow: 1\r\n", std::chrono::seconds(60)); });
  // A well-behaved client is still served (without the guard it would wait for ever).
  auto client = server.client();
  client.set_read_timeout(std::chrono::seconds(60));
  auto r = client.Get("/api/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  trickler.join();
  EXPECT_EQ(closed.load(), slow.size());
  for (const auto& c : slow) EXPECT_EQ(c->response(), "") << "a slow client got an answer";
  EXPECT_GE(server.server().slow_clients_cut(), slow.size());
}

TEST(SlowClients, TricklingBodyIsCutOff) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer server(dir, slow_limits);
  std::vector<std::unique_ptr<RawConnection>> slow;
  slow.push_back(std::make_unique<RawConnection>(server.port()));
  ASSERT_TRUE(slow[0]->connected());
  slow[0]->send(
      "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000\r\n\r\n{\"model\": \"");
  EXPECT_EQ(trickle_until_closed(slow, "x", std::chrono::seconds(30)), 1u);
  // The server is fine afterwards.
  auto r = server.client().Get("/api/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(SlowClients, TricklingBlobUploadIsStopped) {
  SOV_REQUIRE_TESTDATA(dir);
  TestServer server(dir, slow_limits);
  std::vector<std::unique_ptr<RawConnection>> slow;
  slow.push_back(std::make_unique<RawConnection>(server.port()));
  ASSERT_TRUE(slow[0]->connected());
  slow[0]->send("POST /api/blobs/sha256:" + std::string(64, '0') +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_EQ(trickle_until_closed(slow, std::string(1000, 'x'), std::chrono::seconds(60)), 1u);
  EXPECT_NE(slow[0]->response().find("too slow"), std::string::npos) << slow[0]->response();
  // No blob and no partial upload is left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(server.models_dir())) {
    const std::string path = e.path().string();
    EXPECT_EQ(path.find("sha256-0000"), std::string::npos) << path;
    EXPECT_EQ(path.find("upload"), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace sov::server
