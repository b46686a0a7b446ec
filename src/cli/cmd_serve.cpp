// `sov serve [--host HOST[:PORT]] [--models DIR] [--model FILE|NAME]... [--parallel N]
//  [--max-queue N] [--ctx N] [--kv-cache-type f16|f32] [--keep-alive DUR] [--max-loaded N] [--max-memory GIB]
//  [--threads N] [--config FILE]`: the Ollama- and OpenAI-compatible HTTP server (docs/api.md).
// Configuration comes from SOV_* environment variables first, then these flags.
// Models: the store (SOV_MODELS or --models, plus a read-only Ollama store; docs/store.md),
// loose .gguf files directly in that folder, and --model files.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>

#include "base/log.h"
#include "cli/command.h"
#include "router/router.h"
#include "server/config.h"
#include "server/server.h"
#include "server/store_resolver.h"
#include "store/config.h"

namespace sov::cli {
namespace {

struct ServeOptions {
  std::string host;
  std::string models;
  std::vector<std::string> preload;
  int32_t parallel = -1;
  int64_t max_queue = -1;
  int32_t ctx = -1;
  std::string kv_cache_type;
  std::string keep_alive;
  int32_t max_loaded = -1;
  double max_memory_gib = 0;
  int threads = -1;
  std::string config_file;
};

int run_serve(const ServeOptions& o) {
  server::ServerConfig config;
  if (Status s = server::apply_env(server::process_env(), &config); !s) return fail(s.message());
  if (!o.host.empty()) {
    if (Status s = server::parse_host(o.host, &config.host, &config.port); !s) return fail(s.message());
  }
  store::StoreOptions store_options = store::store_options_from_env(store::process_environment());
  if (!o.models.empty()) store_options.root = o.models;
  config.models_dir = store_options.root;
  // --model: a GGUF file (served by its stem and its path) or a store name (checked now).
  for (const auto& arg : o.preload) {
    auto model = store::Store(store_options).resolve_name_or_path(arg);
    if (!model) return fail(model.status().message());
    if (model->is_file) config.preload.push_back(model->gguf_path);
  }
  if (o.parallel >= 0) config.num_parallel = o.parallel;
  if (o.max_queue > 0) config.max_queue = static_cast<size_t>(o.max_queue);
  if (o.ctx >= 0) config.context_length = o.ctx;
  if (!o.kv_cache_type.empty()) {
    auto t = engine::parse_kv_type(o.kv_cache_type);
    if (!t) return fail(t.status().with_context("--kv-cache-type").message());
    config.kv_cache_type = *t;
  }
  if (!o.keep_alive.empty()) {
    auto k = server::parse_keep_alive_text(o.keep_alive);
    if (!k) return fail(k.status().message());
    config.keep_alive = *k;
  }
  if (o.max_loaded >= 0) config.max_loaded_models = o.max_loaded;
  if (o.max_memory_gib > 0) config.memory_budget = static_cast<uint64_t>(o.max_memory_gib * (1ull << 30));
  if (o.threads >= 0) config.n_threads = o.threads;
  // Hybrid routing: --config, else SOV_CONFIG, else ~/.sovereign/config.toml when present.
  auto routing = router::load_router(o.config_file, server::process_env());
  if (!routing) return fail(routing.status().message());
  config.router = *routing;
  if (config.router) log::info("routing config: {}", config.router->config().source);
  log::info("model store: {}", store_options.root);
  for (const auto& ro : store_options.read_only_roots) log::info("read-only model store: {}", ro);

  // Signals go to a waiting thread (not a handler), which stops the server cleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::Server srv(config, std::make_unique<server::StoreResolver>(store_options, config.preload));
  if (Status s = srv.bind(); !s) return fail(s.message());
  // Scripts read this line to learn the port (useful with port 0).
  std::fprintf(stderr, "sov serve: listening on http://%s:%d\n", config.host.c_str(), srv.port());
  std::fflush(stderr);
  std::thread waiter([&srv, set] {
    int sig = 0;
    sigwait(&set, &sig);
    srv.stop();
  });
  Status s = srv.run();
  // Wake the waiter if run() ended for another reason.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!s) return fail(s.message());
  return 0;
}

SOV_REGISTER_COMMAND(
    serve, Command{"serve", "Serve models over the Ollama and OpenAI HTTP APIs",
                   [](CLI::App& sub) -> std::function<int()> {
                     auto o = std::make_shared<ServeOptions>();
                     sub.add_option("--host", o->host,
                                    "address[:port] to listen on (SOV_HOST; default 127.0.0.1:11434)");
                     sub.add_option("--models", o->models,
                                    "model store folder (SOV_MODELS; default ~/.sovereign/models)");
                     sub.add_option("-m,--model", o->preload,
                                    "a GGUF file to serve by its name and path, or a store name to check "
                                    "(repeatable)");
                     sub.add_option("--parallel", o->parallel,
                                    "parallel requests per model (SOV_NUM_PARALLEL; 0: auto)");
                     sub.add_option("--max-queue", o->max_queue,
                                    "waiting requests per model before 503 (SOV_MAX_QUEUE)");
                     sub.add_option("--ctx", o->ctx,
                                    "default context length (SOV_CONTEXT_LENGTH; 0: min(4096, trained))");
                     sub.add_option("--kv-cache-type", o->kv_cache_type,
                                    "KV cache element type, f16 or f32 (SOV_KV_CACHE_TYPE; default f16)");
                     sub.add_option("--keep-alive", o->keep_alive,
                                    "default keep_alive, e.g. 5m, 1h, -1 (SOV_KEEP_ALIVE)");
                     sub.add_option("--max-loaded", o->max_loaded,
                                    "models loaded at once (SOV_MAX_LOADED_MODELS; 0: memory only)");
                     sub.add_option("--max-memory", o->max_memory_gib,
                                    "memory budget for loaded models in GiB (default: 80% of RAM)");
                     sub.add_option("--config", o->config_file,
                                    "routing config file (SOV_CONFIG; default ~/.sovereign/config.toml)");
                     sub.add_option("-t,--threads", o->threads,
                                    "engine threads per model (default: physical cores)");
                     return [o] { return run_serve(*o); };
                   }});

}  // namespace
}  // namespace sov::cli
