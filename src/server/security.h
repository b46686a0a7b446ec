// SecurityPolicy: the checks every request passes before routing.
//
// Host header (DNS rebinding): a web page on an attacker's domain that resolves to
// 127.0.0.1 sends "Host: attacker.example"; only local names are accepted. Bound to a
// loopback address: localhost, *.localhost, 127.x.y.z, ::1 and the bound host. Bound to
// another address (e.g. 0.0.0.0): additionally any IP literal and this machine's host name
// (and <hostname>.local). Anything else gets 403.
//
// CORS: a request with an Origin header is allowed when the origin is the server itself
// (same origin), a local origin (http(s)://localhost, 127.0.0.1 or [::1] on any port;
// app://, file://, tauri://, vscode-webview://), or matches a SOV_ORIGINS pattern ('*'
// wildcards; "*" alone allows every origin). Allowed origins are echoed in
// Access-Control-Allow-Origin; others get 403.
//
// API key: with SOV_API_KEY set, every request except GET / and GET /health, the browser
// UI's static files (/index.html, /sw.js, /manifest.webmanifest, /favicon.ico, /assets/) and CORS
// preflights needs "Authorization: Bearer <key>" (compared in constant time), else 401.
//
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/config.h"

namespace sov::server {

class SecurityPolicy {
 public:
  explicit SecurityPolicy(const ServerConfig& config);

  bool host_allowed(std::string_view host_header) const;
  bool origin_allowed(std::string_view origin, std::string_view host_header) const;
  bool requires_key(std::string_view method, std::string_view path) const;
  bool key_ok(std::string_view authorization_header) const;

 private:
  std::string bound_host_;
  bool loopback_only_;
  std::vector<std::string> hostnames_;  // this machine's names (lowercase)
  std::vector<std::string> origin_patterns_;
  std::string api_key_;
};

// '*' matches any run of characters (including none). Case-sensitive.
bool glob_match(std::string_view pattern, std::string_view text);
// The host part of a Host header: "example.com:80" -> "example.com", "[::1]:8" -> "::1".
std::string host_without_port(std::string_view host_header);

}  // namespace sov::server
