#include "router/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <mutex>

namespace sov::router {
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
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

struct UrlParts {
  std::string scheme, host, port;
};

Result<UrlParts> split_url(std::string_view url) {
  CURLU* u = curl_url();
  if (!u) return Status::internal("curl_url failed");
  UrlParts parts;
  const std::string text(url);
  Status st;
  if (curl_url_set(u, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    st = Status::invalid_argument(fmt::format("malformed URL \"{}\"", text.substr(0, 200)));
  } else {
    char* p = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &p, 0) == CURLUE_OK) parts.scheme = lower(p);
    curl_free(p);
    p = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &p, 0) == CURLUE_OK) parts.host = lower(p);
    curl_free(p);
    p = nullptr;
    if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) parts.port = p;
    curl_free(p);
    char* user = nullptr;
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
      st = Status::invalid_argument("URLs with user info are not allowed (use api_key_env)");
    }
    curl_free(user);
  }
  curl_url_cleanup(u);
  if (!st) return st;
  if (parts.scheme != "http" && parts.scheme != "https")
    return Status::invalid_argument(fmt::format("not an http(s) URL: \"{}\"", text.substr(0, 200)));
  if (parts.host.empty()) return Status::invalid_argument("URL has no host");
  return parts;
}

bool sockaddr_is_loopback(const struct sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) return in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

std::string sockaddr_text(const struct sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  } else {
    return "a non-IP address";
  }
  return buf;
}

// The connect-time guard of offline mode.
curl_socket_t open_loopback_socket(void* user, curlsocktype, struct curl_sockaddr* address) {
  auto* blocked = static_cast<std::string*>(user);
  if (!sockaddr_is_loopback(&address->addr)) {
    *blocked = sockaddr_text(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace

bool is_loopback_ip(std::string_view ip) {
  std::string text(ip);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
  }
  return false;
}

Status check_loopback_url(std::string_view url) {
  SOV_ASSIGN_OR_RETURN(UrlParts parts, split_url(url));
  if (parts.host == "localhost" || parts.host.ends_with(".localhost") || is_loopback_ip(parts.host))
    return Status::ok();
  return Status::unsupported(fmt::format(
      "offline mode: refusing to connect to {} (not a loopback address; offline = true allows only "
      "127.0.0.0/8, ::1 and localhost)",
      parts.host));
}

std::string HttpStream::header(const std::string& lower_name) const {
  auto it = headers_.find(lower_name);
  return it == headers_.end() ? std::string() : it->second;
}

HttpStream::~HttpStream() {
  auto* multi = static_cast<CURLM*>(multi_);
  auto* easy = static_cast<CURL*>(easy_);
  if (multi && easy) curl_multi_remove_handle(multi, easy);
  if (easy) curl_easy_cleanup(easy);
  if (multi) curl_multi_cleanup(multi);
  curl_slist_free_all(static_cast<curl_slist*>(header_list_));
  curl_slist_free_all(static_cast<curl_slist*>(resolve_list_));
}

size_t HttpStream::on_header(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<HttpStream*>(user);
  const size_t len = size * n;
  s->last_activity_ = Clock::now();
  std::string_view line(data, len);
  if (line.starts_with("HTTP/")) {
    s->headers_.clear();
    return len;
  }
  if (line == "\r\n" || line == "\n") {
    long status = 0;
    curl_easy_getinfo(static_cast<CURL*>(s->easy_), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200) {  // not a 100 Continue
      s->status_ = status;
      s->headers_done_ = true;
    }
    return len;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos && s->headers_.size() < 256) {
    s->headers_[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return len;
}

size_t HttpStream::on_body(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<HttpStream*>(user);
  s->last_activity_ = Clock::now();
  s->buffer_.append(data, size * n);
  return size * n;
}

Result<std::unique_ptr<HttpStream>> HttpStream::open(const HttpCall& call, bool* sent) {
  global_init();
  if (sent) *sent = false;
  SOV_ASSIGN_OR_RETURN(UrlParts parts, split_url(call.url));
  if (call.url.find_first_of(" \r\n\t") != std::string::npos)
    return Status::invalid_argument("URL contains whitespace");
  for (const auto& h : call.headers) {
    if (h.find_first_of("\r\n") != std::string::npos)
      return Status::invalid_argument("header contains a line break");
  }
  if (call.offline && !call.skip_offline_precheck_for_test) SOV_RETURN_IF_ERROR(check_loopback_url(call.url));

  std::unique_ptr<HttpStream> s(new HttpStream());
  s->call_ = call;
  CURL* e = curl_easy_init();
  CURLM* m = curl_multi_init();
  s->easy_ = e;
  s->multi_ = m;
  if (!e || !m) return Status::internal("curl initialisation failed");
  curl_easy_setopt(e, CURLOPT_URL, s->call_.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "sovereign-router");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpStream::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, s.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpStream::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, s.get());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
  if (call.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->call_.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s->call_.body.size()));
  } else if (call.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->call_.method.c_str());
  }
  if (call.offline) {
    // No proxy may carry the request elsewhere, and every socket must be loopback.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &open_loopback_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &s->blocked_address_);
    if (parts.host == "localhost" || parts.host.ends_with(".localhost")) {
      const std::string pin = fmt::format("{}:{}:127.0.0.1", parts.host, parts.port);
      s->resolve_list_ = curl_slist_append(nullptr, pin.c_str());
      curl_easy_setopt(e, CURLOPT_RESOLVE, static_cast<curl_slist*>(s->resolve_list_));
    }
  }
  curl_slist* headers = nullptr;
  bool has_expect = false;
  for (const auto& h : s->call_.headers) {
    headers = curl_slist_append(headers, h.c_str());
    if (lower(h).starts_with("expect:")) has_expect = true;
  }
  if (!has_expect) headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  s->header_list_ = headers;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_multi_add_handle(m, e);

  s->start_ = s->last_activity_ = Clock::now();
  Status st = s->pump([&s] { return s->headers_done_; });
  curl_off_t request_bytes = 0;
  long request_size = 0;
  curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &request_bytes);
  if (sent) *sent = s->headers_done_ || request_size > 0 || request_bytes > 0;
  if (!s->headers_done_) {
    if (st.is_ok()) st = Status::io_error("the upstream closed the connection without an answer");
    return st;
  }
  return s;
}

Status HttpStream::pump(const std::function<bool()>& ready) {
  auto* m = static_cast<CURLM*>(multi_);
  while (!finished_ && !ready()) {
    if (cancelled_) {
      finished_ = true;
      transfer_status_ = Status::cancelled("the request was cancelled");
      break;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(m, &running);
    if (mc != CURLM_OK) {
      finished_ = true;
      transfer_status_ = Status::io_error(std::string("curl: ") + curl_multi_strerror(mc));
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      finished_ = true;
      const CURLcode rc = msg->data.result;
      if (rc != CURLE_OK) {
        if (!blocked_address_.empty()) {
          transfer_status_ = Status::unsupported(fmt::format(
              "offline mode: blocked a connection to {} (not a loopback address)", blocked_address_));
        } else {
          transfer_status_ =
              Status::io_error(fmt::format("{}: {}", call_.url.substr(0, 200), curl_easy_strerror(rc)));
        }
      }
    }
    if (finished_ || ready()) break;
    const auto now = Clock::now();
    if (call_.stall_timeout_ms > 0 &&
        now - last_activity_ > std::chrono::milliseconds(call_.stall_timeout_ms)) {
      finished_ = true;
      transfer_status_ = Status::io_error(
          fmt::format("the upstream sent nothing for {} ms (stall timeout)", call_.stall_timeout_ms));
      break;
    }
    if (call_.total_timeout_ms > 0 && now - start_ > std::chrono::milliseconds(call_.total_timeout_ms)) {
      finished_ = true;
      transfer_status_ =
          Status::io_error(fmt::format("the upstream did not finish within {} ms", call_.total_timeout_ms));
      break;
    }
    curl_multi_poll(m, nullptr, 0, 50, nullptr);
  }
  return transfer_status_;
}

Result<bool> HttpStream::read(std::string* chunk) {
  chunk->clear();
  if (buffer_.empty()) {
    Status st = pump([this] { return !buffer_.empty(); });
    if (buffer_.empty()) {
      if (!st.is_ok()) return st;
      return false;
    }
  }
  chunk->swap(buffer_);
  buffer_.clear();
  return true;
}

Result<std::string> HttpStream::read_all(size_t max) {
  std::string out, chunk;
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool more, read(&chunk));
    if (!more) return out;
    if (out.size() + chunk.size() > max)
      return Status::resource_exhausted("the upstream answer is too large");
    out += chunk;
  }
}

}  // namespace sov::router
