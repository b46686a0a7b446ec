#include "scheduler/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sov::scheduler {

StepLogprobs compute_logprobs(std::span<const float> logits, int32_t chosen, int32_t n_top) {
  StepLogprobs out;
  if (logits.empty()) return out;
  float max = -std::numeric_limits<float>::infinity();
  for (float v : logits) {
    if (!std::isnan(v)) max = std::max(max, v);
  }
  double sum = 0;
  for (float v : logits) {
    if (!std::isnan(v)) sum += std::exp(static_cast<double>(v) - max);
  }
  const double log_z = max + std::log(sum);
  auto lp = [&](int32_t id) {
    float v = logits[static_cast<size_t>(id)];
    return std::isnan(v) ? -std::numeric_limits<float>::infinity() : static_cast<float>(v - log_z);
  };
  const auto n = static_cast<int32_t>(logits.size());
  out.chosen = chosen >= 0 && chosen < n ? lp(chosen) : -std::numeric_limits<float>::infinity();
  n_top = std::clamp(n_top, 0, n);
  if (n_top == 0) return out;
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
  auto better = [&](int32_t a, int32_t b) {
    float la = lp(a), lb = lp(b);
    return la != lb ? la > lb : a < b;
  };
  std::partial_sort(ids.begin(), ids.begin() + n_top, ids.end(), better);
  for (int32_t i = 0; i < n_top; ++i)
    out.top.emplace_back(ids[static_cast<size_t>(i)], lp(ids[static_cast<size_t>(i)]));
  return out;
}

}  // namespace sov::scheduler
