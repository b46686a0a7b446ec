#include "server/metrics.h"

#include <fmt/format.h>

namespace sov::server {
namespace {

constexpr std::string_view kRoutes[] = {"/",
                                        "/health",
                                        "/metrics",
                                        "/api/version",
                                        "/api/generate",
                                        "/api/chat",
                                        "/api/tags",
                                        "/api/ps",
                                        "/api/show",
                                        "/api/copy",
                                        "/api/delete",
                                        "/api/pull",
                                        "/api/create",
                                        "/api/push",
                                        "/v1/chat/completions",
                                        "/v1/completions",
                                        "/v1/models",
                                        "/api/embed",
                                        "/api/embeddings",
                                        "/v1/embeddings",
                                        "/api/route",
                                        "/api/route/explain",
                                        "/api/audit"};

// Label values are escaped as the text format requires.
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string Metrics::route_label(std::string_view path) {
  for (std::string_view r : kRoutes) {
    if (path == r) return std::string(r);
  }
  if (path.starts_with("/v1/models/")) return "/v1/models/{id}";
  if (path.starts_with("/api/blobs/")) return "/api/blobs/{digest}";
  return "other";
}

void Metrics::record_request(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), status}];
  Sum& d = durations_[std::string(route)];
  d.sum += seconds;
  ++d.count;
}

void Metrics::record_generation(const std::string& model, const scheduler::JobStats& stats,
                                double ttft_seconds) {
  std::lock_guard lock(mu_);
  ModelCounters& m = models_[model];
  m.prompt += static_cast<uint64_t>(stats.n_prompt);
  m.cached += static_cast<uint64_t>(stats.n_cached);
  m.generated += static_cast<uint64_t>(stats.n_generated);
  if (ttft_seconds >= 0) {
    m.ttft.sum += ttft_seconds;
    ++m.ttft.count;
  }
  ++m.reasons[stats.done_reason.empty() ? "error" : stats.done_reason];
}

std::string Metrics::render(const std::vector<LoadedModel>& loaded) const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP sov_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE sov_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("sov_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", escape(key.first),
                       key.second, n);
  }
  out +=
      "# HELP sov_http_request_duration_seconds Time to answer a request (streams: until the last byte).\n";
  out += "# TYPE sov_http_request_duration_seconds summary\n";
  for (const auto& [route, d] : durations_) {
    out +=
        fmt::format("sov_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n", escape(route), d.sum);
    out +=
        fmt::format("sov_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", escape(route), d.count);
  }
  auto counter = [&](const char* name, const char* help, auto field) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, help, name);
    for (const auto& [model, m] : models_)
      out += fmt::format("{}{{model=\"{}\"}} {}\n", name, escape(model), field(m));
  };
  counter("sov_prompt_tokens_total", "Prompt tokens of finished generations.",
          [](auto& m) { return m.prompt; });
  counter("sov_prompt_cached_tokens_total", "Prompt tokens reused from the prefix cache.",
          [](auto& m) { return m.cached; });
  counter("sov_generated_tokens_total", "Generated tokens.", [](auto& m) { return m.generated; });
  out += "# HELP sov_time_to_first_token_seconds Time from request to first token.\n";
  out += "# TYPE sov_time_to_first_token_seconds summary\n";
  for (const auto& [model, m] : models_) {
    out += fmt::format("sov_time_to_first_token_seconds_sum{{model=\"{}\"}} {:.6f}\n", escape(model),
                       m.ttft.sum);
    out += fmt::format("sov_time_to_first_token_seconds_count{{model=\"{}\"}} {}\n", escape(model),
                       m.ttft.count);
  }
  out += "# HELP sov_generations_total Finished generations by done_reason.\n";
  out += "# TYPE sov_generations_total counter\n";
  for (const auto& [model, m] : models_) {
    for (const auto& [reason, n] : m.reasons) {
      out += fmt::format("sov_generations_total{{model=\"{}\",reason=\"{}\"}} {}\n", escape(model),
                         escape(reason), n);
    }
  }
  uint64_t bytes = 0;
  out += "# HELP sov_queue_depth Requests waiting for a slot.\n# TYPE sov_queue_depth gauge\n";
  for (const auto& m : loaded)
    out += fmt::format("sov_queue_depth{{model=\"{}\"}} {}\n", escape(m.entry.name), m.stats.queued);
  out += "# HELP sov_active_sequences Requests being generated.\n# TYPE sov_active_sequences gauge\n";
  for (const auto& m : loaded) {
    out += fmt::format("sov_active_sequences{{model=\"{}\"}} {}\n", escape(m.entry.name), m.stats.active);
  }
  out += "# HELP sov_model_slots Parallel sequences of a loaded model.\n# TYPE sov_model_slots gauge\n";
  for (const auto& m : loaded) {
    out += fmt::format("sov_model_slots{{model=\"{}\"}} {}\n", escape(m.entry.name), m.n_slots);
    bytes += m.size_bytes;
  }
  out += "# HELP sov_loaded_models Models in memory.\n# TYPE sov_loaded_models gauge\n";
  out += fmt::format("sov_loaded_models {}\n", loaded.size());
  out += "# HELP sov_loaded_model_bytes Memory of loaded models (weights and context).\n";
  out += "# TYPE sov_loaded_model_bytes gauge\n";
  out += fmt::format("sov_loaded_model_bytes {}\n", bytes);
  return out;
}

}  // namespace sov::server
