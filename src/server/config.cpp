#include "server/config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace sov::server {
namespace {

Result<int64_t> parse_int(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size() || v < lo || v > hi) throw std::out_of_range("range");
    return static_cast<int64_t>(v);
  } catch (...) {
    return Status::invalid_argument(
        fmt::format("{}: expected an integer in [{}, {}], got \"{}\"", name, lo, hi, text));
  }
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Status parse_host(std::string_view text, std::string* host, int* port) {
  std::string_view s = text;
  if (s.starts_with("http://")) s.remove_prefix(7);
  if (s.starts_with("https://"))
    return Status::invalid_argument("SOV_HOST: https is not supported; use http://");
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  if (s.empty()) return Status::invalid_argument("SOV_HOST is empty");
  std::string_view h = s, p;
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      return Status::invalid_argument("SOV_HOST: unclosed '[' in IPv6 address");
    h = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Status::invalid_argument("SOV_HOST: expected ':port' after ']'");
      p = rest.substr(1);
    }
  } else if (size_t colon = s.rfind(':'); colon != std::string_view::npos) {
    if (s.find(':') != colon) {
      h = s;  // a bare IPv6 address
    } else {
      h = s.substr(0, colon);
      p = s.substr(colon + 1);
    }
  }
  if (!p.empty()) {
    SOV_ASSIGN_OR_RETURN(int64_t v, parse_int("SOV_HOST port", std::string(p), 0, 65535));
    *port = static_cast<int>(v);
  }
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  return Status::ok();
}

Status apply_env(const EnvLookup& env, ServerConfig* c) {
  if (auto v = env("SOV_HOST"); v && !v->empty()) SOV_RETURN_IF_ERROR(parse_host(*v, &c->host, &c->port));
  if (auto v = env("SOV_MODELS"); v && !v->empty()) c->models_dir = *v;
  if (auto v = env("SOV_HOME"); v && !v->empty()) {
    c->kb_root = *v + "/kb";
  } else if (auto home = env("HOME"); home && !home->empty()) {
    c->kb_root = *home + "/.sovereign/kb";
  }
  if (auto v = env("SOV_ORIGINS"); v) c->origins = split_list(*v);
  if (auto v = env("SOV_API_KEY"); v) c->api_key = *v;
  if (auto v = env("SOV_KEEP_ALIVE"); v && !v->empty()) {
    auto k = parse_keep_alive_text(*v);
    if (!k) return k.status().with_context("SOV_KEEP_ALIVE");
    c->keep_alive = *k;
  }
  if (auto v = env("SOV_NUM_PARALLEL"); v && !v->empty()) {
    SOV_ASSIGN_OR_RETURN(int64_t n, parse_int("SOV_NUM_PARALLEL", *v, 0, 256));
    c->num_parallel = static_cast<int32_t>(n);
  }
  if (auto v = env("SOV_MAX_QUEUE"); v && !v->empty()) {
    SOV_ASSIGN_OR_RETURN(int64_t n, parse_int("SOV_MAX_QUEUE", *v, 1, 1000000));
    c->max_queue = static_cast<size_t>(n);
  }
  if (auto v = env("SOV_CONTEXT_LENGTH"); v && !v->empty()) {
    SOV_ASSIGN_OR_RETURN(int64_t n, parse_int("SOV_CONTEXT_LENGTH", *v, 0, 1 << 24));
    c->context_length = static_cast<int32_t>(n);
  }
  if (auto v = env("SOV_KV_CACHE_TYPE"); v && !v->empty()) {
    auto t = engine::parse_kv_type(*v);
    if (!t) return t.status().with_context("SOV_KV_CACHE_TYPE");
    c->kv_cache_type = *t;
  }
  if (auto v = env("SOV_MAX_LOADED_MODELS"); v && !v->empty()) {
    SOV_ASSIGN_OR_RETURN(int64_t n, parse_int("SOV_MAX_LOADED_MODELS", *v, 0, 1000));
    c->max_loaded_models = static_cast<int32_t>(n);
  }
  return Status::ok();
}

void finalize(ServerConfig* c) {
  if (c->memory_budget == 0) {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t total =
        pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : (8ull << 30);
    c->memory_budget = total / 10 * 8;
  }
}

}  // namespace sov::server
