#include "store/test_registry.h"

#include <httplib.h>

#include <chrono>

namespace sov::store::testing {
namespace {

constexpr size_t kChunk = 16 * 1024;

bool take(int* times) {
  if (*times == 0) return false;
  if (*times > 0) --*times;
  return true;
}

}  // namespace

TestRegistry::TestRegistry() : server_(std::make_unique<httplib::Server>()) {}

TestRegistry::~TestRegistry() {
  stop();
}

void TestRegistry::stop() {
  stopping_ = true;
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

Status TestRegistry::start(int port) {
  install_routes();
  server_->set_keep_alive_max_count(100);
  if (port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return Status::io_error("test registry: cannot bind");
  } else {
    if (!server_->bind_to_port("127.0.0.1", port)) return Status::io_error("test registry: cannot bind");
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works on a running server: do not return before it runs.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::ok();
}

Digest TestRegistry::add_blob(std::string bytes) {
  Digest d = sha256_of(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  blobs_[d.hex()] = std::make_shared<const std::string>(std::move(bytes));
  return d;
}

void TestRegistry::add_manifest(const std::string& ns, const std::string& model, const std::string& tag,
                                std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  manifests_[ns + "/" + model + "/" + tag] = std::move(text);
}

Manifest TestRegistry::add_model(const std::string& ns, const std::string& model, const std::string& tag,
                                 std::string gguf, const std::string& template_text,
                                 const std::string& system, const nlohmann::ordered_json& params) {
  Manifest m;
  auto layer = [&](std::string_view media, std::string bytes) {
    uint64_t size = bytes.size();
    Digest d = add_blob(std::move(bytes));
    return Layer{std::string(media), d, size, ""};
  };
  m.layers.push_back(layer(kMediaModel, std::move(gguf)));
  if (!template_text.empty()) m.layers.push_back(layer(kMediaTemplate, template_text));
  if (!system.empty()) m.layers.push_back(layer(kMediaSystem, system));
  if (!params.empty()) m.layers.push_back(layer(kMediaParams, params.dump()));
  nlohmann::ordered_json config = {{"model_format", "gguf"}, {"model_family", "llama"}};
  m.config = layer(kConfigMediaType, config.dump());
  add_manifest(ns, model, tag, serialize_manifest(m));
  return m;
}

void TestRegistry::cut_after(const Digest& blob, uint64_t bytes, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  cuts_[blob.hex()] = {bytes, times, 0};
}

void TestRegistry::stall_after(const Digest& blob, uint64_t bytes, int times, int stall_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  stalls_[blob.hex()] = {bytes, times, stall_ms};
}

void TestRegistry::corrupt_at(const Digest& blob, uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_[blob.hex()] = offset;
}

void TestRegistry::fail_blob_requests(int status, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_status_ = status;
  fail_times_ = times;
}

void TestRegistry::require_token(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}

void TestRegistry::redirect_blobs_to(std::string base_url) {
  std::lock_guard<std::mutex> lock(mu_);
  redirect_ = std::move(base_url);
}

uint64_t TestRegistry::bytes_served(const Digest& blob) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = served_.find(blob.hex());
  return it == served_.end() ? 0 : it->second;
}

uint64_t TestRegistry::total_bytes_served() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const auto& [k, v] : served_) total += v;
  return total;
}

int TestRegistry::blob_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blob_requests_;
}
int TestRegistry::manifest_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return manifest_requests_;
}
int TestRegistry::faults_injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}
int TestRegistry::token_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_requests_;
}
int TestRegistry::authorized_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return authorized_;
}
std::string TestRegistry::last_manifest_accept() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_accept_;
}
void TestRegistry::reset_counters() {
  std::lock_guard<std::mutex> lock(mu_);
  served_.clear();
  blob_requests_ = manifest_requests_ = token_requests_ = authorized_ = faults_ = 0;
}

// Answers 401 with a challenge unless the request carries the token. Caller holds mu_.
bool TestRegistry::check_auth(const void* request, void* response) {
  const auto& req = *static_cast<const httplib::Request*>(request);
  auto& res = *static_cast<httplib::Response*>(response);
  if (req.has_header("Authorization")) ++authorized_;
  if (token_.empty() || req.get_header_value("Authorization") == "Bearer " + token_) return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer realm=\"" + base_url() +
                                         "/token\",service=\"test-registry\",scope=\"repository:pull\"");
  res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                  "application/json");
  return false;
}

void TestRegistry::install_routes() {
  server_->Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    ++token_requests_;
    if (req.get_param_value("service") != "test-registry") {
      res.status = 400;
      return;
    }
    res.set_content(nlohmann::json{{"token", token_}}.dump(), "application/json");
  });

  server_->Get(R"(/v2/([^/]+)/([^/]+)/manifests/([^/]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard<std::mutex> lock(mu_);
                 ++manifest_requests_;
                 last_accept_ = req.get_header_value("Accept");
                 if (!check_auth(&req, &res)) return;
                 auto it = manifests_.find(std::string(req.matches[1]) + "/" + std::string(req.matches[2]) +
                                           "/" + std::string(req.matches[3]));
                 if (it == manifests_.end()) {
                   res.status = 404;
                   res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                                   "application/json");
                   return;
                 }
                 res.set_content(it->second, std::string(kManifestMediaType));
               });

  server_->Get(R"(/v2/([^/]+)/([^/]+)/blobs/sha256:([0-9a-f]{64}))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::unique_lock<std::mutex> lock(mu_);
                 ++blob_requests_;
                 const std::string hex = req.matches[3];
                 if (!redirect_.empty()) {
                   res.status = 307;
                   res.set_header("Location", redirect_ + req.path);
                   return;
                 }
                 if (!check_auth(&req, &res)) return;
                 if (fail_times_ != 0 && take(&fail_times_)) {
                   ++faults_;
                   res.status = fail_status_;
                   return;
                 }
                 auto it = blobs_.find(hex);
                 if (it == blobs_.end()) {
                   res.status = 404;
                   return;
                 }
                 std::shared_ptr<const std::string> data = it->second;
                 Fault cut, stall;
                 if (auto c = cuts_.find(hex); c != cuts_.end() && take(&c->second.times))
                   cut = {c->second.after, 1, 0};
                 if (auto s = stalls_.find(hex); s != stalls_.end() && take(&s->second.times))
                   stall = {s->second.after, 1, s->second.stall_ms};
                 std::optional<uint64_t> corrupt;
                 if (auto c = corrupt_.find(hex); c != corrupt_.end()) corrupt = c->second;
                 lock.unlock();

                 auto sent = std::make_shared<uint64_t>(0);  // bytes of this response
                 auto stalled = std::make_shared<bool>(false);
                 res.set_content_provider(data->size(), "application/octet-stream",
                                          [this, data, hex, cut, stall, corrupt, sent, stalled](
                                              size_t offset, size_t length, httplib::DataSink& sink) {
                                            if (stall.times != 0 && !*stalled && *sent >= stall.after) {
                                              *stalled = true;
                                              {
                                                std::lock_guard<std::mutex> l(mu_);
                                                ++faults_;
                                              }
                                              const auto until = std::chrono::steady_clock::now() +
                                                                 std::chrono::milliseconds(stall.stall_ms);
                                              while (std::chrono::steady_clock::now() < until && !stopping_) {
                                                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                              }
                                            }
                                            size_t n = std::min(length, kChunk);
                                            if (cut.times != 0) {
                                              if (*sent >= cut.after) {
                                                std::lock_guard<std::mutex> l(mu_);
                                                ++faults_;
                                                return false;  // drop the connection
                                              }
                                              n = std::min<uint64_t>(n, cut.after - *sent);
                                            }
                                            if (stall.times != 0 && !*stalled && *sent < stall.after)
                                              n = std::min<uint64_t>(n, stall.after - *sent);
                                            std::string chunk = data->substr(offset, n);
                                            if (corrupt && *corrupt >= offset && *corrupt < offset + n)
                                              chunk[*corrupt - offset] ^= 0x5a;
                                            if (!sink.write(chunk.data(), chunk.size())) return false;
                                            *sent += n;
                                            std::lock_guard<std::mutex> l(mu_);
                                            served_[hex] += n;
                                            return true;
                                          });
               });
}

}  // namespace sov::store::testing
