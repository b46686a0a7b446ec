#include "server/server_test_util.h"

#include "server/store_resolver.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

namespace sov::server::test {
namespace fs = std::filesystem;

TestServer::TestServer(const std::string& testdata, const std::function<void(ServerConfig&)>& tweak) {
  static std::atomic<int> counter{0};
  signal(SIGPIPE, SIG_IGN);
  dir_ = fs::temp_directory_path() /
         ("sov_server_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir_);
  for (const char* stem : {"stories260K", "TinyLLama-v0.Q4_0"}) {
    fs::create_symlink(fs::path(testdata) / "models" / (std::string(stem) + ".gguf"),
                       dir_ / (std::string(stem) + ".gguf"));
  }
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.models_dir = dir_.string();
  config.n_threads = 1;
  config.num_parallel = 4;
  config.http_threads = 32;
  if (tweak) tweak(config);
  // The models folder is the store root: loose GGUF files there are served by their stem,
  // store models by name. No read-only Ollama store: tests never see the user's models.
  store::StoreOptions store_options;
  store_options.root = config.models_dir;
  server_ = std::make_unique<Server>(config, std::make_unique<StoreResolver>(store_options, config.preload));
  Status s = server_->start();
  if (!s) throw std::runtime_error(s.to_string());
}

TestServer::~TestServer() {
  server_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

httplib::Client TestServer::client() const {
  httplib::Client c("127.0.0.1", server_->port());
  c.set_read_timeout(std::chrono::seconds(120));
  return c;
}

std::vector<nlohmann::json> ndjson(const std::string& body) {
  std::vector<nlohmann::json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::vector<nlohmann::json> sse_events(const std::string& body, bool* done) {
  std::vector<nlohmann::json> out;
  *done = false;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    std::string data = line.substr(6);
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    out.push_back(nlohmann::json::parse(data));
  }
  return out;
}

Reference stories_reference(const std::string& testdata) {
  Reference r;
  std::ifstream t(testdata + "/reference/stories260K/tokens.json");
  auto tokens = nlohmann::json::parse(t);
  r.prompt = tokens["prompt"];
  r.n_prompt = static_cast<int>(tokens["ids"].size());
  std::ifstream g(testdata + "/reference/stories260K/greedy.json");
  r.text = nlohmann::json::parse(g)["text"];
  return r;
}

}  // namespace sov::server::test
