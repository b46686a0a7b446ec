// Test helpers: an in-process Server on an ephemeral port with a temporary models directory
// holding the shared test models (symlinked), and small HTTP helpers.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/server.h"

namespace sov::server::test {

class TestServer {
 public:
  // Links stories260K.gguf and TinyLLama-v0.Q4_0.gguf from `testdata` into a temp models dir.
  // `tweak` adjusts the config before the server starts.
  TestServer(const std::string& testdata, const std::function<void(ServerConfig&)>& tweak = {});
  ~TestServer();

  httplib::Client client() const;
  int port() const { return server_->port(); }
  const std::filesystem::path& models_dir() const { return dir_; }
  Server& server() { return *server_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
};

// Lines of an NDJSON body, parsed.
std::vector<nlohmann::json> ndjson(const std::string& body);
// The JSON payloads of "data: " events of an SSE body, and whether it ended with [DONE].
std::vector<nlohmann::json> sse_events(const std::string& body, bool* done);

// The reference greedy continuation of stories260K (prompt and text).
struct Reference {
  std::string prompt;
  std::string text;
  int n_prompt = 0;
};
Reference stories_reference(const std::string& testdata);

}  // namespace sov::server::test
