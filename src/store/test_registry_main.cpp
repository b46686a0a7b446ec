// sov_test_registry: the test registry as a process, for the CLI tests.
//   sov_test_registry --port-file FILE [--token T] [--cut-after N]
//   MODEL=GGUF[,template=FILE][,system=TEXT]...
// MODEL is "namespace/model:tag". Serves until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "store/test_registry.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  using sov::store::testing::TestRegistry;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts

  TestRegistry registry;
  std::string port_file, token;
  long long cut_after = -1, stall_after = -1;
  std::vector<sov::store::Digest> model_blobs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port-file" && i + 1 < argc) {
      port_file = argv[++i];
    } else if (a == "--token" && i + 1 < argc) {
      token = argv[++i];
    } else if (a == "--cut-after" && i + 1 < argc) {
      cut_after = std::stoll(argv[++i]);
    } else if (a == "--stall-after" && i + 1 < argc) {
      stall_after = std::stoll(argv[++i]);
    } else {
      // namespace/model:tag=path[,template=FILE][,system=TEXT]
      size_t eq = a.find('=');
      size_t slash = a.find('/');
      size_t colon = a.find(':');
      if (eq == std::string::npos || slash == std::string::npos || colon == std::string::npos || colon > eq) {
        std::fprintf(stderr, "bad model argument: %s\n", a.c_str());
        return 2;
      }
      std::string ns = a.substr(0, slash), model = a.substr(slash + 1, colon - slash - 1),
                  tag = a.substr(colon + 1, eq - colon - 1);
      std::string rest = a.substr(eq + 1), path, tmpl, system;
      std::stringstream ss(rest);
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (item.starts_with("template=")) {
          tmpl = read_all(item.substr(9));
        } else if (item.starts_with("system=")) {
          system = item.substr(7);
        } else {
          path = item;
        }
      }
      std::string gguf = read_all(path);
      if (gguf.empty()) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return 2;
      }
      auto m =
          registry.add_model(ns, model, tag, gguf, tmpl, system, {{"temperature", 0.5}, {"stop", {"</s>"}}});
      model_blobs.push_back(m.layers[0].digest);
    }
  }
  if (!token.empty()) registry.require_token(token);
  if (cut_after >= 0) {
    for (const auto& d : model_blobs) registry.cut_after(d, static_cast<uint64_t>(cut_after), 1);
  }
  if (stall_after >= 0) {  // one response stalls for a minute (until the client gives up)
    for (const auto& d : model_blobs) registry.stall_after(d, static_cast<uint64_t>(stall_after), 1, 60000);
  }
  if (auto s = registry.start(); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << registry.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  } else {
    std::printf("%d\n", registry.port());
    std::fflush(stdout);
  }
  int sig = 0;
  sigwait(&set, &sig);
  registry.stop();
  return 0;
}
