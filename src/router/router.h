// Router: decides where a generation request runs — the local backend or an upstream —
// and sends it upstream when it must, under the user's policy.
//
// decide(): an explicit model picks its backend ("<backend>/<model>", a name listed in an
// upstream's `models`, or one of its `aliases`; any other name is a local model). Model
// "auto" goes through the rules: the per-request hint (X-Sov-Route header or "sov_route"
// field naming a backend) when hints are on, then each [[rules]] entry in order (prompt
// tokens over a threshold, prompt over the local context, a capability the local backend
// lacks, keywords, a regex, a named hint), then [routing] default. An upstream the policy
// bars (private data to allow_private = false, a non-loopback upstream in offline mode) is
// skipped for `auto` and refused for an explicit model. Every decision says which rule fired
// and why (Decision::header(), to_json()).
//
// send(): redacts the request, translates it to the upstream's OpenAI API, retries
// unreachable / 429 / 5xx answers with exponential backoff, and returns the answer in the
// client's shape — whole, or as a stream read chunk by chunk (UpstreamResponse::next). Every
// attempt that sent bytes is written to the audit log; usage and latency per backend are kept
// for /metrics.
//
// A Router is immutable after create() apart from its counters and audit log; all methods
// are thread-safe. An UpstreamResponse is used by one thread (cancel() from any).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "router/audit.h"
#include "router/config.h"
#include "router/http_client.h"
#include "router/redact.h"
#include "router/translate.h"

namespace sov::router {

struct RouteRequest {
  ApiKind api = ApiKind::kOpenAIChat;
  ojson body;
  std::string hint;           // X-Sov-Route header ("" when absent; the body's sov_route is read too)
  bool private_data = false;  // grounded in a private knowledge base (X-Sov-Private / sov_private)
  int64_t local_context = 0;  // the local model's context in tokens (0: unknown)
  // The local model's tokenizer, to count the prompt for min_prompt_tokens and
  // exceeds_local_context rules; empty: estimated (estimate_tokens).
  std::function<int64_t(std::string_view)> count_tokens;
};

struct Target {
  std::string backend;
  std::string model;
};

struct Decision {
  std::string backend;               // "local" or an upstream's name
  std::string model;                 // the model to run there
  std::string rule;                  // "model", "alias", "prefix", "hint", a rule name, "default", "fallback"
  std::string reason;                // a sentence for people
  std::vector<std::string> skipped;  // rules or backends passed over, and why
  RequestFacts facts;
  std::optional<Target> fallback;  // where to go when this backend fails
  // Explicit requests the policy refuses: HTTP status (403) and message; 0 when allowed.
  int refuse_status = 0;
  std::string refuse_message;

  bool local() const { return backend == kLocalBackend; }
  // "backend=cloud; model=gpt-4o; rule=long-prompts"
  std::string header() const;
  ojson to_json() const;
};

class Router;

// An upstream answer being delivered to the client.
class UpstreamResponse {
 public:
  ~UpstreamResponse();  // records the audit entry if next() did not finish
  bool streaming() const { return stream_ != nullptr; }
  const std::string& content_type() const { return content_type_; }
  // Whole answers: the client-shaped body.
  const std::string& body() const { return body_; }
  // Streams: the next bytes for the client; false when the stream has ended. Upstream
  // errors after the stream began become an error event/line in the stream.
  bool next(std::string* out);
  void cancel();

 private:
  friend class Router;
  UpstreamResponse() = default;
  void finish(const std::string& error);

  const Router* router_ = nullptr;
  std::unique_ptr<HttpStream> stream_;
  std::unique_ptr<StreamTranslator> translator_;
  SseParser sse_;
  std::shared_ptr<Redaction> redaction_;
  std::string content_type_;
  std::string body_;
  AuditEntry audit_;
  const Backend* backend_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  std::string pending_;
  bool ended_ = false;
  bool recorded_ = false;
};

struct SendResult {
  std::unique_ptr<UpstreamResponse> response;  // set on success
  int status = 0;                              // HTTP status for the client on failure
  std::string error;
  bool can_fall_back = false;  // the upstream was unreachable, rate-limited or failing
};

class Router {
 public:
  // Compiles the redaction and rule regexes and opens the audit log (config.audit_path, or
  // <home>/audit.db).
  static Result<std::shared_ptr<Router>> create(RouterConfig config, const std::string& home);

  const RouterConfig& config() const { return config_; }
  const std::string& audit_path() const { return audit_path_; }
  AuditLog& audit() const { return *audit_; }

  Decision decide(const RouteRequest& request) const;
  // Sends to an upstream `target.backend` (never "local").
  SendResult send(const RouteRequest& request, const Target& target, const std::string& rule) const;

  // Counters for /metrics.
  void count_decision(const std::string& backend, const std::string& rule) const;
  void count_fallback(const std::string& from, const std::string& to) const;
  std::string render_metrics() const;

 private:
  friend class UpstreamResponse;
  struct Compiled;
  Router() = default;
  void record(const AuditEntry& e, const Backend* b) const;
  bool blocked(const Backend& b, const RouteRequest& r, std::string* why) const;
  bool rule_fires(size_t index, const RequestFacts& f, const RouteRequest& r, std::string* why) const;
  std::string local_model(const RequestFacts& f) const;
  Target upstream_target(const Backend& b, const std::string& model) const;

  RouterConfig config_;
  std::string audit_path_;
  std::unique_ptr<Redactor> redactor_;
  std::unique_ptr<AuditLog> audit_;
  std::vector<std::unique_ptr<Compiled>> rule_regex_;  // per rule (null when no match)

  struct BackendStats {
    uint64_t requests = 0, errors = 0, prompt_tokens = 0, completion_tokens = 0;
    double latency_sum = 0, cost = 0;
  };
  mutable std::mutex stats_mu_;
  mutable std::map<std::string, BackendStats> stats_;
  mutable std::map<std::pair<std::string, std::string>, uint64_t> decisions_;
  mutable std::map<std::pair<std::string, std::string>, uint64_t> fallbacks_;
};

// The router `sov serve` runs with: the config file `path` (--config; must exist), else
// $SOV_CONFIG (must exist), else <home>/config.toml if it exists; nullptr when there is no
// file (everything runs locally). The audit log goes under $SOV_HOME (~/.sovereign).
Result<std::shared_ptr<Router>> load_router(const std::string& path, const EnvFn& env);

// Whether a header value means "yes" ("1", "true", "yes").
bool truthy(std::string_view v);

}  // namespace sov::router
