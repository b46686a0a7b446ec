#include "store/http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
#include <mutex>

namespace sov::store {
namespace {

using Clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

struct Transfer {
  CURL* easy = nullptr;
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  Status* sink_status = nullptr;
  size_t max_body = 0;
  Clock::time_point last_activity;
  const HttpRequest* request = nullptr;
  bool headers_checked = false;
  Status header_status;
  bool sink_failed = false;
  bool body_too_large = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->last_activity = Clock::now();
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after a redirect or a 100 Continue)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && t->response->headers.size() < 256) {
    t->response->headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  t->last_activity = Clock::now();
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  const bool ok = status >= 200 && status < 300;
  if (ok && !t->headers_checked) {
    t->headers_checked = true;
    if (t->request->on_headers) {
      t->header_status = t->request->on_headers(status, t->response->headers);
      if (!t->header_status.is_ok()) return 0;
    }
  }
  if (ok && t->sink && *t->sink) {
    if (!(*t->sink)(data, len)) {
      t->sink_failed = true;
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    t->response->body_bytes += len;
    return len;
  }
  // Kept in memory: a small body, or the start of an error body.
  const size_t room = t->max_body > t->response->body.size() ? t->max_body - t->response->body.size() : 0;
  if (len > room) {
    if (ok) {
      t->body_too_large = true;
      return 0;
    }
    t->response->body.append(data, room);
    return len;  // drop the rest of an error body
  }
  t->response->body.append(data, len);
  t->response->body_bytes += len;
  return len;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string url_scheme(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos) return "";
  std::string scheme = lower(std::string(url.substr(0, p)));
  return scheme == "http" || scheme == "https" ? scheme : "";
}

bool is_loopback_url(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos) return false;
  std::string_view rest = url.substr(p + 3);
  size_t end = rest.find_first_of("/?#");
  std::string host = lower(std::string(rest.substr(0, end)));
  if (size_t at = host.rfind('@'); at != std::string::npos) return false;  // no userinfo tricks
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    return close != std::string::npos && host.substr(1, close - 1) == "::1";
  }
  if (size_t colon = host.find(':'); colon != std::string::npos) host = host.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost";
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<HttpResponse> http_get(const HttpRequest& req, const BodySink& sink, Status* sink_status) {
  global_init();
  const std::string scheme = url_scheme(req.url);
  if (scheme.empty()) return Status::invalid_argument("not an http(s) URL: " + req.url.substr(0, 200));
  if (req.url.find_first_of(" \r\n\t") != std::string::npos) {
    return Status::invalid_argument("URL contains whitespace");
  }
  for (const auto& h : req.headers) {
    if (h.find_first_of("\r\n") != std::string::npos)
      return Status::invalid_argument("header contains a line break");
  }

  HttpResponse response;
  Transfer t;
  t.easy = curl_easy_init();
  if (!t.easy) return Status::internal("curl_easy_init failed");
  t.response = &response;
  t.sink = &sink;
  t.sink_status = sink_status;
  t.request = &req;
  t.max_body = req.max_body;
  t.last_activity = Clock::now();

  CURL* e = t.easy;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 8L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, req.insecure || scheme == "http" ? "http,https" : "https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "sovereign (model pull)");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  if (req.insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  std::string range;
  if (req.range_first) {
    range = std::to_string(*req.range_first) + "-" + (req.range_last ? std::to_string(*req.range_last) : "");
    curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
  }
  struct curl_slist* headers = nullptr;
  for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  if (headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);

  CURLM* multi = curl_multi_init();
  curl_multi_add_handle(multi, e);
  Status failure;
  int running = 1;
  while (running) {
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      failure = Status::io_error(std::string("curl: ") + curl_multi_strerror(mc));
      break;
    }
    if (!running) break;
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    if (req.cancelled && req.cancelled()) {
      failure = Status::cancelled("cancelled");
      break;
    }
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t.last_activity);
    if (req.stall_timeout_ms > 0 && idle.count() > req.stall_timeout_ms) {
      failure = Status::io_error(fmt::format("stalled: no data for {} ms", idle.count()));
      break;
    }
  }
  CURLcode result = CURLE_OK;
  if (failure.is_ok()) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) result = msg->data.result;
    }
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
  if (char* eff = nullptr; curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) {
    response.effective_url = eff;
  }
  curl_multi_remove_handle(multi, e);
  curl_multi_cleanup(multi);
  curl_easy_cleanup(e);
  curl_slist_free_all(headers);

  if (!failure.is_ok()) return failure;
  if (!t.header_status.is_ok()) return t.header_status;
  if (t.sink_failed) {
    if (sink_status && !sink_status->is_ok()) return *sink_status;
    return Status::io_error("transfer aborted while writing");
  }
  if (t.body_too_large) return Status::out_of_range("response body too large");
  if (result != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(result);
    if (result == CURLE_UNSUPPORTED_PROTOCOL || result == CURLE_TOO_MANY_REDIRECTS) {
      return Status::invalid_argument("refused redirect: " + detail);
    }
    // TLS failures are configuration problems, not glitches worth retrying.
    if (result == CURLE_SSL_CONNECT_ERROR || result == CURLE_PEER_FAILED_VERIFICATION ||
        result == CURLE_SSL_CERTPROBLEM || result == CURLE_SSL_CACERT_BADFILE) {
      return Status::invalid_argument("TLS: " + detail + " (a plain-http registry needs --insecure)");
    }
    return Status::io_error(detail);
  }
  return response;
}

}  // namespace sov::store
