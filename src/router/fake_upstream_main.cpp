// sov_fake_upstream [--port-file FILE]: the fake OpenAI-compatible upstream (fake_upstream.h)
// as a process on 127.0.0.1, for CLI and browser tests of hybrid routing. Prints
// "http://127.0.0.1:<port>/v1" and serves until SIGINT/SIGTERM. Test-only.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "router/fake_upstream.h"

int main(int argc, char** argv) {
  std::string port_file;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
      port_file = argv[++i];
    } else {
      std::fprintf(stderr, "usage: sov_fake_upstream [--port-file FILE]\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  sov::router::test::FakeUpstream fake;
  std::printf("%s\n", fake.base_url().c_str());
  std::fflush(stdout);
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << fake.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
