#include "server/security.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace sov::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ipv4(const std::string& h) {
  in_addr a;
  return inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& h) {
  in6_addr a;
  return inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

bool is_loopback_name(const std::string& h) {
  if (h == "localhost" || h.ends_with(".localhost") || h == "::1") return true;
  return is_ipv4(h) && h.starts_with("127.");
}

const char* const kLocalOrigins[] = {
    "http://localhost", "https://localhost", "http://localhost:*", "https://localhost:*",
    "http://127.0.0.1", "https://127.0.0.1", "http://127.0.0.1:*", "https://127.0.0.1:*",
    "http://[::1]",     "https://[::1]",     "http://[::1]:*",     "https://[::1]:*",
    "app://*",          "file://*",          "tauri://*",          "vscode-webview://*"};

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with backtracking to the last '*'.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string host_without_port(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    return std::string(close == std::string_view::npos ? h.substr(1) : h.substr(1, close - 1));
  }
  size_t colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos)
    h = h.substr(0, colon);
  return std::string(h);
}

SecurityPolicy::SecurityPolicy(const ServerConfig& config)
    : bound_host_(lower(config.host)),
      loopback_only_(is_loopback_name(lower(config.host))),
      origin_patterns_(config.origins),
      api_key_(config.api_key) {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0 && name[0]) {
    hostnames_.push_back(lower(name));
    hostnames_.push_back(lower(name) + ".local");
  }
}

bool SecurityPolicy::host_allowed(std::string_view host_header) const {
  if (host_header.empty()) return true;  // HTTP/1.0 without Host: not a browser
  std::string h = lower(host_without_port(host_header));
  if (is_loopback_name(h) || h == bound_host_) return true;
  if (loopback_only_) return false;
  if (is_ipv4(h) || is_ipv6(h)) return true;
  return std::find(hostnames_.begin(), hostnames_.end(), h) != hostnames_.end();
}

bool SecurityPolicy::origin_allowed(std::string_view origin, std::string_view host_header) const {
  for (const auto& p : origin_patterns_) {
    if (p == "*" || glob_match(p, origin)) return true;
  }
  if (origin == "null") return false;
  if (!host_header.empty() && (origin == "http://" + std::string(host_header))) return true;  // same origin
  for (const char* p : kLocalOrigins) {
    if (glob_match(p, origin)) {
      // "http://localhost:*" must not match "http://localhost:80.evil.com".
      size_t colon = origin.rfind(':');
      std::string_view port = colon == std::string_view::npos ? "" : origin.substr(colon + 1);
      bool digits_only = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (std::string_view(p).ends_with(":*") && !digits_only) continue;
      return true;
    }
  }
  return false;
}

bool SecurityPolicy::requires_key(std::string_view method, std::string_view path) const {
  if (api_key_.empty() || method == "OPTIONS") return false;
  if (method != "GET" && method != "HEAD") return true;
  // The browser UI's static files hold no data (the page asks for the key, then sends it).
  const bool ui = path == "/index.html" || path == "/sw.js" || path == "/manifest.webmanifest" ||
                  path == "/favicon.ico" || path.starts_with("/assets/");
  return !(path == "/" || path == "/health" || ui);
}

bool SecurityPolicy::key_ok(std::string_view header) const {
  if (api_key_.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() < kBearer.size() || lower(header.substr(0, kBearer.size())) != "bearer ") return false;
  std::string_view given = header.substr(kBearer.size());
  // Constant time in the key's length: no early exit on the first difference.
  unsigned diff = given.size() == api_key_.size() ? 0u : 1u;
  for (size_t i = 0; i < api_key_.size(); ++i) {
    char g = i < given.size() ? given[i] : 0;
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g) ^ static_cast<unsigned char>(api_key_[i]));
  }
  return diff == 0;
}

}  // namespace sov::server
