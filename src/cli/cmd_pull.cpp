// `sov pull NAME [--insecure] [--registry URL]`: downloads a model from an Ollama-compatible
// registry into the store (SOV_MODELS), resumably, with a progress bar on a terminal. Ctrl-C
// stops it; running it again resumes where it stopped. Exit code 130 when interrupted.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "cli/command.h"
#include "store/config.h"
#include "store/progress_bar.h"
#include "store/store.h"

namespace sov::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  g_interrupted = true;
}

struct PullCliOptions {
  std::string name;
  bool insecure = false;
  std::string registry;
};

int run_pull(const PullCliOptions& o) {
  store::Store st(store::store_options_from_env(store::process_environment()));
  store::PullOptions options;
  options.insecure = o.insecure;
  options.registry = o.registry;

  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  store::ProgressPrinter printer(stderr, ::isatty(STDERR_FILENO) != 0);
  Status s = st.pull(
      o.name, options, [&](const store::Progress& p) { printer.update(p); }, &g_interrupted);
  printer.finish();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (s.code() == ErrorCode::kCancelled) {
    std::fprintf(stderr, "interrupted: run `sov pull %s` again to resume\n", o.name.c_str());
    return 130;
  }
  if (!s) return fail(s.message());
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(pull,
                     Command{"pull", "Download a model from a registry (Ollama's by default)",
                             [](CLI::App& sub) -> std::function<int()> {
                               auto o = std::make_shared<PullCliOptions>();
                               sub.add_option("name", o->name, "model name, e.g. llama3.2:1b")->required();
                               sub.add_flag("--insecure", o->insecure,
                                            "allow a plain-http registry (and unverified TLS)");
                               sub.add_option("--registry", o->registry,
                                              "registry base URL for this pull (default: $SOV_REGISTRY, "
                                              "else https://<host of the name>)");
                               return [o] { return run_pull(*o); };
                             }});

}  // namespace sov::cli
