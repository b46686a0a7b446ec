// Server: the HTTP server behind `sov serve` — Ollama's API under /api, OpenAI's under /v1,
// plus GET / ("Sovereign is running"), /health and /metrics.
//
// Every request first passes the SecurityPolicy (Host allow-list, CORS, API key) and the
// body limit; errors use the shape of the API family of the path. Handlers never throw
// across httplib: an unexpected exception becomes a 500 with a JSON error. Bodies, keys and
// prompts are never logged; the access log (info level) has method, route, status, time.
//
// Lifecycle: construct, bind() (port 0 picks a free port), then run() (blocks) or start()
// (a background thread, for tests); stop() from any thread ends run(). Thread-safe.
#pragma once

#include <httplib.h>

#include <memory>
#include <thread>

#include "base/status.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/model_info.h"
#include "server/model_manager.h"
#include "server/model_resolver.h"
#include "server/security.h"

namespace sov::server {

// What the route handlers share.
struct ServerState {
  const ServerConfig& config;
  ModelResolver& resolver;
  ModelManager& manager;
  ModelInfoCache& info_cache;
  Metrics& metrics;
};

class Server {
 public:
  Server(ServerConfig config, std::unique_ptr<ModelResolver> resolver);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status bind();
  int port() const { return port_; }
  // Serves until stop(). bind() first.
  Status run();
  // bind() + run() on a background thread.
  Status start();
  void stop();

  const ServerConfig& config() const { return config_; }
  ModelManager& manager() { return *manager_; }
  // Connections closed because their client sent its request too slowly (http_server.h).
  uint64_t slow_clients_cut() const { return http_.slow_clients_cut(); }

 private:
  void install_middleware();

  ServerConfig config_;
  std::unique_ptr<ModelResolver> resolver_;
  std::unique_ptr<ModelManager> manager_;
  ModelInfoCache info_cache_;
  Metrics metrics_;
  SecurityPolicy security_;
  std::unique_ptr<ServerState> state_;
  HttpServer http_;
  int port_ = -1;
  std::thread thread_;
};

void register_basic_routes(HttpServer& http, ServerState& state);
void register_model_routes(HttpServer& http, ServerState& state);
void register_ollama_routes(HttpServer& http, ServerState& state);
void register_openai_routes(HttpServer& http, ServerState& state);
void register_embed_routes(HttpServer& http, ServerState& state);  // routes_embed.cpp
void register_store_routes(HttpServer& http, ServerState& state);  // routes_store.cpp
// GET / (the browser UI, or "Sovereign is running" for non-browser clients) and its assets.
void register_web_routes(HttpServer& http, ServerState& state);
void register_kb_routes(HttpServer& http, ServerState& state);  // routes_kb.cpp
// Hybrid routing (routes_router.cpp): /api/route, /api/route/explain, /api/audit; routed()
// wraps a local generation handler so that config.router decides local vs upstream first
// (with no router it is the handler itself).
void register_router_routes(HttpServer& http, ServerState& state);
httplib::Server::Handler routed(ServerState& state, httplib::Server::Handler local);

// True for paths answered in OpenAI's error shape.
inline bool is_openai_path(const std::string& path) {
  return path.rfind("/v1/", 0) == 0 || path == "/v1";
}

}  // namespace sov::server
