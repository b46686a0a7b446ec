#include "server/server.h"

#include <fmt/format.h>

#include <chrono>

#include "base/log.h"
#include "router/router.h"
#include "server/http_util.h"
#include "sovereign/version.h"

namespace sov::server {
namespace {

using Clock = std::chrono::steady_clock;

// Each connection is served by one thread from routing to the logger, so the start time of
// the request being served can live in a thread-local.
thread_local Clock::time_point t_request_start;
thread_local bool t_request_started = false;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr int kKeepAliveSeconds = 5;
// httplib's own body limit: blob uploads (POST /api/blobs/:digest) are model files streamed
// to disk. Every other route is held to ServerConfig::max_body_bytes before routing.
constexpr size_t kMaxUploadBytes = size_t{1} << 40;

bool is_blob_upload(const httplib::Request& req) {
  return req.method == "POST" && req.path.rfind("/api/blobs/", 0) == 0;
}

bool body_too_large(const httplib::Request& req, size_t limit) {
  if (is_blob_upload(req) || !req.has_header("Content-Length")) return false;
  const std::string text = req.get_header_value("Content-Length");
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > (uint64_t{1} << 50)) return true;  // malformed or absurd
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n > limit;
}

void send_error(const httplib::Request& req, httplib::Response& res, int status, const std::string& message,
                const char* code = nullptr) {
  if (is_openai_path(req.path)) {
    send_openai_error(res, status, message, code);
  } else {
    send_ollama_error(res, status, message);
  }
}

}  // namespace

Server::Server(ServerConfig config, std::unique_ptr<ModelResolver> resolver)
    : config_(std::move(config)),
      resolver_(std::move(resolver)),
      security_(config_),
      http_(SlowClientLimits{.header_timeout = std::chrono::milliseconds(config_.header_timeout_ms),
                             .keep_alive = std::chrono::seconds(kKeepAliveSeconds),
                             .max_body_bytes = config_.max_body_bytes}) {
  finalize(&config_);
  manager_ = std::make_unique<ModelManager>(config_, *resolver_);
  state_ = std::make_unique<ServerState>(ServerState{config_, *resolver_, *manager_, info_cache_, metrics_});
  const int threads = std::max(4, config_.http_threads);
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_.set_payload_max_length(kMaxUploadBytes);  // see body_too_large() for other routes
  http_.set_read_timeout(std::chrono::seconds(30));
  http_.set_write_timeout(std::chrono::seconds(30));
  // An idle keep-alive connection holds its worker until this timeout, also at shutdown
  // (httplib only checks for stop between requests): short, so Ctrl-C exits promptly.
  http_.set_keep_alive_timeout(kKeepAliveSeconds);
  install_middleware();
  register_basic_routes(http_, *state_);
  register_model_routes(http_, *state_);
  register_ollama_routes(http_, *state_);
  register_openai_routes(http_, *state_);
  register_embed_routes(http_, *state_);
  register_store_routes(http_, *state_);
  register_web_routes(http_, *state_);
  register_kb_routes(http_, *state_);
  register_router_routes(http_, *state_);
}

Server::~Server() {
  stop();
  if (thread_.joinable()) thread_.join();
  manager_.reset();  // unloads models (their workers end) before the resolver goes
}

void Server::install_middleware() {
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    http_.headers_read(req);
    t_request_start = Clock::now();
    t_request_started = true;
    size_t header_bytes = 0;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    if (header_bytes > kMaxHeaderBytes) {
      send_error(req, res, 431, "request headers too large");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (body_too_large(req, config_.max_body_bytes)) {
      http_.close_after_response();  // the unread body must not be taken as a request
      send_error(req, res, 413, "request body too large");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string host = req.get_header_value("Host");
    if (!security_.host_allowed(host)) {
      send_error(req, res, 403,
                 "forbidden: the Host header does not name this server (DNS rebinding protection)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Origin")) {
      const std::string origin = req.get_header_value("Origin");
      if (!security_.origin_allowed(origin, host)) {
        send_error(req, res, 403, "forbidden: origin not allowed (add it to SOV_ORIGINS)");
        return httplib::Server::HandlerResponse::Handled;
      }
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS");
        std::string asked = req.get_header_value("Access-Control-Request-Headers");
        res.set_header(
            "Access-Control-Allow-Headers",
            asked.empty() ? "Authorization, Content-Type, Accept, User-Agent, X-Requested-With" : asked);
        res.set_header("Access-Control-Max-Age", "600");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.set_header("Allow", "GET, POST, DELETE, HEAD, OPTIONS");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (security_.requires_key(req.method, req.path) &&
        !security_.key_ok(req.get_header_value("Authorization"))) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(req, res, 401, "missing or invalid API key (send \"Authorization: Bearer <key>\")",
                 "invalid_api_key");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        switch (res.status) {
          case 404: message = fmt::format("not found: {} {}", req.method, req.path.substr(0, 200)); break;
          case 405: message = "method not allowed"; break;
          case 413: message = "request body too large"; break;
          case 414: message = "request URI too long"; break;
          default: message = fmt::format("HTTP error {}", res.status); break;
        }
        send_error(req, res, res.status, message);
        return httplib::Server::HandlerResponse::Handled;
      }));

  http_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("{} {}: internal error: {}", req.method, Metrics::route_label(req.path), what);
    send_error(req, res, 500, "internal server error: " + what);
  });

  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double secs = 0;
    if (t_request_started) secs = std::chrono::duration<double>(Clock::now() - t_request_start).count();
    t_request_started = false;
    const std::string route = Metrics::route_label(req.path);
    metrics_.record_request(route, res.status, secs);
    http_.response_sent();
    log::info("{} {} {} {:.1f}ms", req.method, route, res.status, secs * 1e3);
  });
}

Status Server::bind() {
  if (port_ >= 0) return Status::ok();
  if (config_.port == 0) {
    port_ = http_.bind_to_any_port(config_.host);
  } else {
    port_ = http_.bind_to_port(config_.host, config_.port) ? config_.port : -1;
  }
  if (port_ < 0) {
    return Status::io_error(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                                        config_.host, config_.port));
  }
  return Status::ok();
}

Status Server::run() {
  SOV_RETURN_IF_ERROR(bind());
  log::info("Sovereign {} listening on {}:{}", SOV_VERSION_STRING, config_.host, port_);
  if (!http_.listen_after_bind()) return Status::io_error("the HTTP server stopped with an error");
  return Status::ok();
}

Status Server::start() {
  SOV_RETURN_IF_ERROR(bind());
  thread_ = std::thread([this] { (void)http_.listen_after_bind(); });
  // Wait until the accept loop runs so that a client connecting right away is served.
  for (int i = 0; i < 5000 && !http_.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::ok();
}

void Server::stop() {
  http_.stop();
}

void register_basic_routes(HttpServer& http, ServerState& state) {
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"status", "ok"}, {"version", SOV_VERSION_STRING}});
  });
  http.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"version", SOV_VERSION_STRING}});
  });
  http.Get("/metrics", [&state](const httplib::Request&, httplib::Response& res) {
    std::string text = state.metrics.render(state.manager.loaded());
    if (state.config.router) text += state.config.router->render_metrics();  // per-backend usage
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace sov::server
