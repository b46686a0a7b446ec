// Metrics: counters for /metrics in the Prometheus text format (version 0.0.4).
//
//   sov_http_requests_total{route,status}            requests answered
//   sov_http_request_duration_seconds_{sum,count}{route}
//   sov_prompt_tokens_total{model}                   prompt tokens (evaluated + reused)
//   sov_prompt_cached_tokens_total{model}            prompt tokens reused from the prefix cache
//   sov_generated_tokens_total{model}
//   sov_time_to_first_token_seconds_{sum,count}{model}
//   sov_generations_total{model,reason}              finished generations by done_reason
//   sov_queue_depth{model}, sov_active_sequences{model}, sov_model_slots{model}  (gauges)
//   sov_loaded_models, sov_loaded_model_bytes          (gauges)
// Routes are the registered patterns ("/v1/models/{id}"), never raw paths, so label values
// stay bounded; model labels are resolved model names only.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/job.h"
#include "server/model_manager.h"

namespace sov::server {

class Metrics {
 public:
  void record_request(std::string_view route, int status, double seconds);
  void record_generation(const std::string& model, const scheduler::JobStats& stats, double ttft_seconds);
  std::string render(const std::vector<LoadedModel>& loaded) const;

  // The bounded route label for a request path.
  static std::string route_label(std::string_view path);

 private:
  struct Sum {
    double sum = 0;
    uint64_t count = 0;
  };
  struct ModelCounters {
    uint64_t prompt = 0, cached = 0, generated = 0;
    Sum ttft;
    std::map<std::string, uint64_t> reasons;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Sum> durations_;
  std::map<std::string, ModelCounters> models_;
};

}  // namespace sov::server
