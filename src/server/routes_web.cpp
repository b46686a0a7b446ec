// The browser UI: GET / (the page for browsers, "Sovereign is running" for health checks),
// /index.html, /sw.js, /manifest.webmanifest and /assets/..., all from the files embedded
// at build time (web_assets.h). Every answer carries a strict Content-Security-Policy
// (nothing but this origin: no inline script, no CDN, no framing), an ETag honoured by
// If-None-Match, and Cache-Control: no-cache (revalidate, so an upgraded binary serves its
// own UI at once; the service worker keeps a copy for offline use).
#include <algorithm>
#include <cctype>
#include <string>

#include "server/server.h"
#include "server/web_assets.h"

namespace sov::server {
namespace {

constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// If-None-Match: a list of entity tags, or "*".
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header.empty()) return false;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);  // weak comparison is fine for GET
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

void send_asset(const httplib::Request& req, httplib::Response& res, const WebAsset& a) {
  res.set_header("Content-Security-Policy", kCsp);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  res.set_header("Cross-Origin-Resource-Policy", "same-origin");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", a.etag);
  if (etag_matches(req.get_header_value("If-None-Match"), a.etag)) {
    res.status = 304;
    return;
  }
  res.set_content(reinterpret_cast<const char*>(a.data), a.size, a.content_type);
}

void send_not_found(httplib::Response& res) {
  res.status = 404;
  res.set_content("not found", "text/plain; charset=utf-8");
}

}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  auto assets = web_assets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path, [](const WebAsset& a, std::string_view p) {
    return std::string_view(a.path) < p;
  });
  if (it == assets.end() || std::string_view(it->path) != path) return nullptr;
  return &*it;
}

bool accepts_html(std::string_view accept) {
  const std::string a = lower(accept);
  return a.find("text/html") != std::string::npos || a.find("application/xhtml+xml") != std::string::npos;
}

void register_web_routes(HttpServer& http, ServerState&) {
  http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Vary", "Accept");
    const WebAsset* page = find_web_asset("/index.html");
    if (!page || !accepts_html(req.get_header_value("Accept"))) {
      res.set_content("Sovereign is running", "text/plain; charset=utf-8");
      return;
    }
    send_asset(req, res, *page);
  });
  auto serve = [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.path);
    if (!a) return send_not_found(res);
    send_asset(req, res, *a);
  };
  http.Get("/index.html", serve);
  http.Get("/sw.js", serve);
  http.Get("/manifest.webmanifest", serve);
  http.Get("/favicon.ico", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset("/assets/icon.svg");
    if (!a) return send_not_found(res);
    send_asset(req, res, *a);
  });
  http.Get(R"(/assets/[A-Za-z0-9_./-]+)", serve);
}

}  // namespace sov::server
