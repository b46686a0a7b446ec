#include "store/registry.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/manifest.h"

namespace sov::store {
namespace {

constexpr size_t kMaxTokenLength = 16384;

std::string printable(std::string_view s, size_t max = 200) {
  std::string out(s.substr(0, max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

// A one-line summary of a registry error body ({"errors":[{"message":...}]} or text).
std::string error_detail(const HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    auto errors = j.find("errors");
    if (errors != j.end() && errors->is_array() && !errors->empty() && (*errors)[0].is_object()) {
      auto msg = (*errors)[0].find("message");
      if (msg != (*errors)[0].end() && msg->is_string()) return printable(msg->get<std::string>());
    }
    auto err = j.find("error");
    if (err != j.end() && err->is_string()) return printable(err->get<std::string>());
  }
  return printable(r.body, 120);
}

bool url_allowed(std::string_view url, bool insecure) {
  const std::string scheme = url_scheme(url);
  if (scheme == "https") return true;
  return scheme == "http" && (insecure || is_loopback_url(url));
}

}  // namespace

bool is_retryable_status(long status) {
  return status >= 500 || status == 429 || status == 408;
}

Result<std::string> registry_base_url(const ModelName& name, const std::string& override_url, bool insecure) {
  std::string base = override_url.empty() ? (insecure ? "http://" : "https://") + name.host : override_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (url_scheme(base).empty() || base.find_first_of(" \t\r\n\"<>\\") != std::string::npos ||
      base.find('?') != std::string::npos || base.find('#') != std::string::npos) {
    return Status::invalid_argument(fmt::format("invalid registry URL \"{}\"", printable(base)));
  }
  if (!url_allowed(base, insecure)) {
    return Status::invalid_argument(
        fmt::format("registry {} uses plain http; pass --insecure to allow it", printable(base)));
  }
  return base;
}

Result<BearerChallenge> parse_bearer_challenge(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7 || !(h.substr(0, 6) == "Bearer" || h.substr(0, 6) == "bearer") || h[6] != ' ') {
    return Status::invalid_argument("not a Bearer challenge");
  }
  h.remove_prefix(7);
  BearerChallenge c;
  // key="value" pairs separated by commas.
  while (!h.empty()) {
    while (!h.empty() && (h.front() == ' ' || h.front() == ',')) h.remove_prefix(1);
    size_t eq = h.find('=');
    if (eq == std::string_view::npos) break;
    std::string key(h.substr(0, eq));
    h.remove_prefix(eq + 1);
    std::string value;
    if (!h.empty() && h.front() == '"') {
      size_t close = h.find('"', 1);
      if (close == std::string_view::npos) return Status::invalid_argument("unterminated quote in challenge");
      value = std::string(h.substr(1, close - 1));
      h.remove_prefix(close + 1);
    } else {
      size_t comma = h.find(',');
      value = std::string(h.substr(0, comma));
      h.remove_prefix(comma == std::string_view::npos ? h.size() : comma);
    }
    if (key == "realm") c.realm = value;
    if (key == "service") c.service = value;
    if (key == "scope") c.scope = value;
  }
  if (c.realm.empty()) return Status::invalid_argument("Bearer challenge without a realm");
  return c;
}

RegistryClient::RegistryClient(std::string base_url, ModelName name, RegistrySettings settings)
    : base_url_(std::move(base_url)), name_(std::move(name)), settings_(std::move(settings)) {}

HttpRequest RegistryClient::make_request(const std::string& url) const {
  HttpRequest r;
  r.url = url;
  r.insecure = settings_.insecure;
  r.connect_timeout_ms = settings_.connect_timeout_ms;
  r.stall_timeout_ms = settings_.stall_timeout_ms;
  r.cancelled = settings_.cancelled;
  return r;
}

Status RegistryClient::fetch_token(const std::string& header) {
  SOV_ASSIGN_OR_RETURN(BearerChallenge c, parse_bearer_challenge(header));
  if (!url_allowed(c.realm, settings_.insecure)) {
    return Status::invalid_argument(
        fmt::format("registry asked for a token from a plain-http realm {}", printable(c.realm)));
  }
  std::string url = c.realm;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (!c.service.empty()) {
    url += sep + std::string("service=") + url_encode(c.service);
    sep = '&';
  }
  if (!c.scope.empty()) url += sep + std::string("scope=") + url_encode(c.scope);
  HttpRequest req = make_request(url);
  req.max_body = 64 * 1024;
  SOV_ASSIGN_OR_RETURN(HttpResponse r, http_get(req));
  if (r.status != 200) {
    if (is_retryable_status(r.status))
      return Status::io_error(fmt::format("token server answered {}", r.status));
    return Status::invalid_argument(fmt::format("token server answered {}: {}", r.status, error_detail(r)));
  }
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string token;
  if (!j.is_discarded() && j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
        token = it->get<std::string>();
        break;
      }
    }
  }
  if (token.empty() || token.size() > kMaxTokenLength)
    return Status::corrupt("token server sent no usable token");
  for (char c : token) {
    // A token goes into a header: visible ASCII only.
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Status::corrupt("token server sent a token with invalid characters");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
  return Status::ok();
}

Result<HttpResponse> RegistryClient::send(HttpRequest request, const BodySink& sink, Status* sink_status) {
  const std::vector<std::string> base_headers = request.headers;
  for (int attempt = 0;; ++attempt) {
    request.headers = base_headers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!token_.empty()) request.headers.push_back("Authorization: Bearer " + token_);
    }
    SOV_ASSIGN_OR_RETURN(HttpResponse r, http_get(request, sink, sink_status));
    if (r.status != 401 || attempt > 0) return r;
    std::string challenge = r.header("www-authenticate");
    if (challenge.empty()) return r;
    SOV_RETURN_IF_ERROR(fetch_token(challenge).with_context("registry authentication"));
  }
}

Result<std::string> RegistryClient::fetch_manifest() {
  const std::string url =
      fmt::format("{}/v2/{}/{}/manifests/{}", base_url_, name_.ns, name_.model, name_.tag);
  HttpRequest req = make_request(url);
  req.headers.push_back(fmt::format("Accept: {}, {}", kManifestMediaType, kOciManifestMediaType));
  req.max_body = kMaxManifestBytes;
  SOV_ASSIGN_OR_RETURN(HttpResponse r, send(req, nullptr, nullptr));
  if (r.status == 200) return std::move(r.body);
  const std::string what = fmt::format("pulling manifest of {} from {}", name_.display(), base_url_);
  if (r.status == 404) {
    return Status::not_found(
        fmt::format("model \"{}\" not found in the registry {}", name_.display(), base_url_));
  }
  if (r.status == 401 || r.status == 403) {
    return Status::invalid_argument(
        fmt::format("{}: access denied ({}): {}", what, r.status, error_detail(r)));
  }
  if (is_retryable_status(r.status))
    return Status::io_error(fmt::format("{}: registry answered {}", what, r.status));
  return Status::invalid_argument(
      fmt::format("{}: registry answered {}: {}", what, r.status, error_detail(r)));
}

Result<HttpResponse> RegistryClient::get_blob(const Digest& digest, std::optional<uint64_t> first,
                                              std::optional<uint64_t> last, const HttpRequest& base_request,
                                              const BodySink& sink, Status* sink_status) {
  HttpRequest req = base_request;
  const HttpRequest defaults =
      make_request(fmt::format("{}/v2/{}/{}/blobs/{}", base_url_, name_.ns, name_.model, digest.str()));
  req.url = defaults.url;
  req.insecure = defaults.insecure;
  req.connect_timeout_ms = defaults.connect_timeout_ms;
  req.stall_timeout_ms = defaults.stall_timeout_ms;
  if (!req.cancelled) req.cancelled = defaults.cancelled;
  req.range_first = first;
  req.range_last = last;
  return send(req, sink, sink_status);
}

}  // namespace sov::store
