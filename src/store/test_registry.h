// A registry for tests: an in-process HTTP server on 127.0.0.1 (cpp-httplib) that speaks
// the part of the registry v2 protocol `sov pull` uses (manifests, blobs with byte ranges,
// a Bearer token endpoint) and injects faults on demand: a connection dropped after N bytes,
// a stall, a corrupted byte, error statuses, a 401 challenge, a redirect to another server.
// It counts the requests and body bytes it serves, so tests can prove that a resumed pull
// fetched only the missing bytes.
//
// Test-only (linked into test binaries and the sov_test_registry tool). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/status.h"
#include "store/digest.h"
#include "store/manifest.h"

namespace httplib {
class Server;
}

namespace sov::store::testing {

class TestRegistry {
 public:
  TestRegistry();
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // Binds 127.0.0.1:<free port> (or `port`) and serves on a background thread.
  Status start(int port = 0);
  void stop();
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  Digest add_blob(std::string bytes);
  void add_manifest(const std::string& ns, const std::string& model, const std::string& tag,
                    std::string text);
  // Registers blobs for a model (GGUF bytes plus optional text layers) and its manifest.
  Manifest add_model(const std::string& ns, const std::string& model, const std::string& tag,
                     std::string gguf, const std::string& template_text = "", const std::string& system = "",
                     const nlohmann::ordered_json& params = nlohmann::ordered_json::object());

  // Faults. `times` counts responses (blob GETs) affected; -1 means every one.
  void cut_after(const Digest& blob, uint64_t bytes, int times);
  void stall_after(const Digest& blob, uint64_t bytes, int times, int stall_ms);
  void corrupt_at(const Digest& blob, uint64_t offset);  // flips one byte in every response
  void fail_blob_requests(int status, int times);        // answer `status` instead
  void require_token(std::string token);                 // 401 + Bearer challenge without it
  void redirect_blobs_to(std::string base_url);          // 307 to <base_url>/v2/.../blobs/<digest>

  // Counters.
  uint64_t bytes_served(const Digest& blob) const;
  uint64_t total_bytes_served() const;
  int blob_requests() const;
  int manifest_requests() const;
  int token_requests() const;
  int faults_injected() const;      // cuts, stalls and error statuses actually performed
  int authorized_requests() const;  // requests that carried an Authorization header
  std::string last_manifest_accept() const;
  void reset_counters();

 private:
  struct Fault {
    uint64_t after = 0;
    int times = 0;
    int stall_ms = 0;
  };
  void install_routes();
  bool check_auth(const void* request, void* response);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const std::string>> blobs_;  // by digest hex
  std::map<std::string, std::string> manifests_;                     // "ns/model/tag"
  std::map<std::string, Fault> cuts_, stalls_;
  std::map<std::string, uint64_t> corrupt_;
  int fail_status_ = 0, fail_times_ = 0;
  std::string token_;
  std::string redirect_;
  std::map<std::string, uint64_t> served_;
  int blob_requests_ = 0, manifest_requests_ = 0, token_requests_ = 0, authorized_ = 0, faults_ = 0;
  std::string last_accept_;
};

}  // namespace sov::store::testing
