// The browser UI's files (web/ui/), embedded into the binary at build time by
// web/cmake/embed_web_assets.cmake: each has the URL path it is served at ("/index.html",
// "/assets/js/chat.js", ...), its Content-Type and a strong ETag (quoted SHA-256 prefix).
//
// Immutable static data; thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace sov::server {

struct WebAsset {
  const char* path;          // "/" + path relative to web/ui
  const char* content_type;  // with charset for text
  const char* etag;          // "\"<hex>\""
  const unsigned char* data;
  size_t size;
};

// Every embedded file, sorted by path.
std::span<const WebAsset> web_assets();
// A hash over all files: changes whenever any file changes.
std::string_view web_ui_version();

// The asset served at `path` ("/" means "/index.html"), or nullptr.
const WebAsset* find_web_asset(std::string_view path);

// True when a request with this Accept header is a browser asking for a page (it lists
// text/html), as opposed to a health check (curl: "*/*", the ollama client: JSON).
bool accepts_html(std::string_view accept_header);

}  // namespace sov::server
