// Client for one repository of an Ollama-compatible registry (Docker registry v2 protocol):
//   GET <base>/v2/<namespace>/<model>/manifests/<tag>   (Accept: the manifest media types)
//   GET <base>/v2/<namespace>/<model>/blobs/<digest>    (often a 307 to a CDN; ranges)
// A 401 with "WWW-Authenticate: Bearer realm=...,service=...,scope=..." is answered by
// fetching an anonymous token from the realm and repeating the request with
// "Authorization: Bearer <token>" (curl never forwards it to a redirect's other host).
//
// The base URL is https://<host> of the name (http:// with --insecure), or a configured
// override (mirrors, tests). Plain http is refused unless `insecure` is set or the host is
// loopback.
//
// Thread-safe: blob requests from several threads share the token under a mutex.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "store/digest.h"
#include "store/http.h"
#include "store/name.h"

namespace sov::store {

struct RegistrySettings {
  bool insecure = false;
  int connect_timeout_ms = 15000;
  int stall_timeout_ms = 30000;
  std::function<bool()> cancelled;
};

// The registry base URL for `name`: `override_url` when not empty (trailing '/' removed),
// else "https://<host>" ("http://<host>" when insecure). kInvalidArgument for a malformed override or plain
// http that is neither loopback nor allowed by `insecure`.
Result<std::string> registry_base_url(const ModelName& name, const std::string& override_url, bool insecure);

class RegistryClient {
 public:
  RegistryClient(std::string base_url, ModelName name, RegistrySettings settings);

  // The manifest text. kNotFound when the registry does not know the name; kIoError for
  // transport failures and 5xx/429 answers (worth retrying); others kInvalidArgument.
  Result<std::string> fetch_manifest();

  // GETs a blob (optionally a byte range) streaming 2xx bodies to `sink`; `on_headers`
  // vets the response first. Returns the final response (any status) or a transport error.
  Result<HttpResponse> get_blob(const Digest& digest, std::optional<uint64_t> first,
                                std::optional<uint64_t> last, const HttpRequest& base_request,
                                const BodySink& sink, Status* sink_status);

  const std::string& base_url() const { return base_url_; }
  const ModelName& name() const { return name_; }
  const RegistrySettings& settings() const { return settings_; }

 private:
  HttpRequest make_request(const std::string& url) const;
  // Runs a request, answering one Bearer challenge.
  Result<HttpResponse> send(HttpRequest request, const BodySink& sink, Status* sink_status);
  Status fetch_token(const std::string& challenge);

  std::string base_url_;
  ModelName name_;
  RegistrySettings settings_;
  mutable std::mutex mu_;
  std::string token_;
};

// Parses a Bearer challenge into realm, service and scope; kInvalidArgument otherwise.
struct BearerChallenge {
  std::string realm;
  std::string service;
  std::string scope;
};
Result<BearerChallenge> parse_bearer_challenge(std::string_view header);

// True for statuses worth retrying (5xx, 429, 408).
bool is_retryable_status(long status);

}  // namespace sov::store
