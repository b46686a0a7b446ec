// ServerConfig: everything `sov serve` is configured with, read once at start-up from the
// environment and then overridden by command-line flags; passed down by reference, so no
// code below reads the environment.
//
// Environment: SOV_HOST ("host", "host:port", "http://host:port", ":port"), SOV_MODELS (the
// model store; `sov serve` builds its store::StoreOptions with store/config.h), SOV_ORIGINS
// (comma-separated extra CORS origins; "*" allows all),
// SOV_API_KEY, SOV_KEEP_ALIVE (default keep_alive), SOV_NUM_PARALLEL, SOV_MAX_QUEUE,
// SOV_CONTEXT_LENGTH, SOV_MAX_LOADED_MODELS, SOV_KV_CACHE_TYPE (f16 or f32). Plain value;
// thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/kv_type.h"
#include "server/duration.h"

namespace sov::router {
class Router;
}

namespace sov::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 11434;
  std::string models_dir;            // the model store root (loose .gguf files in it are served too)
  std::vector<std::string> origins;  // extra allowed CORS origins (patterns with '*')
  std::string api_key;               // "" : no key required
  KeepAlive keep_alive;              // default for requests without keep_alive
  int32_t num_parallel = 0;          // slots per model; 0: automatic (up to 4, within memory)
  size_t max_queue = 512;            // waiting requests per model
  int32_t context_length = 0;        // default num_ctx; 0: min(4096, the model's trained context)
  engine::KvType kv_cache_type = engine::KvType::kF16;  // element type of every model's KV cache
  int32_t max_loaded_models = 3;                        // 0: no limit (memory budget only)
  uint64_t memory_budget = 0;                           // bytes for loaded models; 0: 80% of physical memory
  size_t max_body_bytes = 32u << 20;
  int http_threads = 64;  // concurrent connections served
  // Time a client has to send a request's headers (then its body at >= 256 KiB/s) before
  // the connection is closed: slow clients cannot hold the connection threads.
  int header_timeout_ms = 10000;
  int n_threads = 0;  // engine threads per model; 0: physical cores
  int32_t n_batch = 256;
  // Model files given on the command line: served under their file stem and by their path.
  std::vector<std::string> preload;
  // Knowledge bases (/api/kb): $SOV_HOME/kb, default ~/.sovereign/kb; "" disables them.
  std::string kb_root;
  // Hybrid routing (src/router, routes_router.cpp), loaded by `sov serve` from config.toml;
  // nullptr: every request runs locally.
  std::shared_ptr<router::Router> router;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv); use only at start-up.
EnvLookup process_env();

// Applies the SOV_* variables found through `env` to `config`. Fails on malformed values,
// naming the variable.
Status apply_env(const EnvLookup& env, ServerConfig* config);

// Parses SOV_HOST-style text into host and port (port unchanged when absent). Accepts
// "127.0.0.1", "0.0.0.0:8080", ":8080", "http://localhost:11434", "[::1]:11434".
Status parse_host(std::string_view text, std::string* host, int* port);

// Fills automatic values (memory budget from physical memory).
void finalize(ServerConfig* config);

}  // namespace sov::server
