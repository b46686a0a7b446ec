#include "sampling/filters.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sov::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

bool by_logit_desc(const Candidate& a, const Candidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

// Reorders `c` so that its first k entries are the smallest set of candidates first in
// `less` order whose mass (p) reaches `need`, and returns k (the token that crosses is
// kept). Weighted quickselect: expected O(n), as only the final small range is sorted, so a
// wide nucleus over a large vocabulary costs no full sort. Deterministic: nth_element and
// sort are, and `less` is a total order.
template <typename Less>
size_t smallest_mass_prefix(std::span<Candidate> c, double need, Less less) {
  size_t lo = 0, hi = c.size();  // everything before lo is kept; the cut lies in [lo, hi)
  constexpr size_t kSortBelow = 64;
  while (hi - lo > kSortBelow) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(c.begin() + lo, c.begin() + mid, c.begin() + hi, less);
    double mass = 0.0;
    for (size_t i = lo; i < mid; ++i) mass += c[i].p;
    if (mass >= need) {
      hi = mid;
    } else {
      need -= mass;
      lo = mid;
    }
  }
  std::sort(c.begin() + lo, c.begin() + hi, less);
  double cum = 0.0;
  for (size_t i = lo; i < hi; ++i) {
    cum += c[i].p;
    if (cum >= need) return i + 1;
  }
  return std::max<size_t>(hi, 1);  // rounding kept the sum just under `need`
}

// Sets p to the softmax and returns log(sum(exp(logit))) (+-inf when degenerate).
double softmax_lse(std::span<Candidate> c) {
  if (c.empty()) return -kInf;
  float max = -kInf;
  for (const Candidate& x : c) max = std::max(max, x.logit);
  if (max == -kInf || max == kInf) {
    // Degenerate: uniform over the +inf logits, or over everything when all are -inf.
    size_t n = 0;
    for (const Candidate& x : c) n += (x.logit == max);
    for (Candidate& x : c) x.p = (x.logit == max) ? 1.0f / static_cast<float>(n) : 0.0f;
    return max;
  }
  double sum = 0.0;
  for (Candidate& x : c) {
    x.p = std::exp(x.logit - max);  // exp(-inf) == 0 for banned tokens
    sum += x.p;
  }
  // sum >= 1 because the max term is exp(0).
  for (Candidate& x : c) x.p = static_cast<float>(x.p / sum);
  return max + std::log(sum);
}

}  // namespace

void softmax(std::span<Candidate> c) {
  softmax_lse(c);
}

size_t filter_top_k(std::span<Candidate> c, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.size()) return c.size();
  std::partial_sort(c.begin(), c.begin() + k, c.end(), by_logit_desc);
  return static_cast<size_t>(k);
}

size_t filter_typical(std::span<Candidate> c, float p) {
  if (c.empty() || !(p < 1.0f)) return c.size();
  const double lse = softmax_lse(c);
  if (!std::isfinite(lse)) return c.size();  // +inf logits: nothing typical to measure
  double entropy = 0.0;
  for (const Candidate& x : c) {
    if (x.p > 0.0f) entropy -= x.p * std::log(x.p);
  }
  // |surprisal - H| = |-(logit - lse) - H| = |logit - center|: no log per comparison.
  const double center = lse - entropy;
  auto more_typical = [center](const Candidate& a, const Candidate& b) {
    const double sa = std::abs(a.logit - center), sb = std::abs(b.logit - center);
    if (sa != sb) return sa < sb;
    return a.id < b.id;
  };
  return smallest_mass_prefix(c, p, more_typical);
}

size_t filter_top_p(std::span<Candidate> c, float p) {
  if (c.empty() || !(p < 1.0f)) return c.size();
  softmax(c);
  return smallest_mass_prefix(c, p, by_logit_desc);
}

size_t filter_min_p(std::span<Candidate> c, float p) {
  if (c.empty() || !(p > 0.0f)) return c.size();
  float max = -kInf;
  for (const Candidate& x : c) max = std::max(max, x.logit);
  const float threshold = max + std::log(std::min(p, 1.0f));
  size_t kept = 0;
  for (const Candidate& x : c) {
    if (x.logit >= threshold) c[kept++] = x;  // stable compaction; the max always passes
  }
  return std::max<size_t>(kept, 1);  // only reachable with NaN logits, which callers exclude
}

void apply_temperature(std::span<Candidate> c, float t) {
  float max = -kInf;
  for (const Candidate& x : c) max = std::max(max, x.logit);
  // Shifting by the max leaves the softmax unchanged and keeps the top logit at 0, so a tiny
  // t cannot overflow every logit to +-inf and lose the argmax.
  const float shift = std::isfinite(max) ? max : 0.0f;
  for (Candidate& x : c) x.logit = (x.logit - shift) / t;
}

}  // namespace sov::sampling
