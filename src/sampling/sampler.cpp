#include "sampling/sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "kernels/vec_ops.h"

namespace sov::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// SplitMix64 (Steele et al.): tiny, fast, statistically fine for sampling, and fully
// specified here, so a seed gives the same stream on every platform and library.
uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t random_seed() {
  uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device device;
    seed ^= (uint64_t{device()} << 32) | device();
  } catch (...) {
    // No entropy device: the clock alone is good enough for a non-reproducible seed.
  }
  return seed == SamplerParams::kRandomSeed ? 0 : seed;
}

// Index of the highest entry (lowest index on ties) or -1 when none is above -inf.
// Vectorized (a greedy step of a 32k vocabulary took ~40 us with a scalar loop, while the
// engine's other threads waited).
int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(kernels::argmax(v.data(), static_cast<int64_t>(v.size())));
}

Status check_probability(const char* name, float v) {
  if (v >= 0.0f && v <= 1.0f) return Status::ok();
  return Status::invalid_argument(std::string(name) + " must be in [0, 1], got " + std::to_string(v));
}

}  // namespace

Status SamplerParams::validate() const {
  if (std::isnan(temperature) || std::isinf(temperature)) {
    return Status::invalid_argument("temperature must be a finite number");
  }
  SOV_RETURN_IF_ERROR(check_probability("top_p", top_p));
  SOV_RETURN_IF_ERROR(check_probability("min_p", min_p));
  SOV_RETURN_IF_ERROR(check_probability("typical_p", typical_p));
  if (!(repeat_penalty >= 0.0f) || std::isinf(repeat_penalty)) {
    return Status::invalid_argument("repeat_penalty must be a finite number >= 0");
  }
  if (!std::isfinite(presence_penalty) || !std::isfinite(frequency_penalty)) {
    return Status::invalid_argument("presence_penalty and frequency_penalty must be finite");
  }
  if (repeat_last_n < -1) {
    return Status::invalid_argument("repeat_last_n must be -1 (whole context), 0 (off) or positive");
  }
  for (const auto& [id, bias] : logit_bias) {
    if (std::isnan(bias) || bias == kInf) {
      return Status::invalid_argument("logit_bias for token " + std::to_string(id) +
                                      " must be a number or -inf");
    }
  }
  return Status::ok();
}

Sampler::Sampler(SamplerParams params, int32_t n_vocab)
    : params_(std::move(params)), n_vocab_(std::max(n_vocab, 0)) {
  seed_ = params_.seed == SamplerParams::kRandomSeed ? random_seed() : params_.seed;
  rng_state_ = seed_;
  const auto n = static_cast<size_t>(n_vocab_);
  work_.resize(n);
  candidates_.resize(n);
  counts_.assign(n, 0);
  if (params_.repeat_last_n > 0) {
    // accept() trims at twice the window, so this makes accept() allocation-free too.
    history_.reserve(std::min<size_t>(2 * static_cast<size_t>(params_.repeat_last_n), 1 << 16));
  }
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_ || params_.repeat_last_n == 0) return;
  history_.push_back(token);
  const auto window = static_cast<size_t>(params_.repeat_last_n);
  if (params_.repeat_last_n > 0 && history_.size() >= 2 * window) {
    history_.erase(history_.begin(), history_.end() - static_cast<ptrdiff_t>(window));
  }
}

void Sampler::reset() {
  history_.clear();
  rng_state_ = seed_;
}

std::span<const int32_t> Sampler::penalty_window() const {
  std::span<const int32_t> all(history_);
  if (params_.repeat_last_n < 0) return all;
  return all.last(std::min(all.size(), static_cast<size_t>(params_.repeat_last_n)));
}

bool Sampler::penalties_active() const {
  const bool repeat = params_.repeat_penalty != 1.0f && params_.repeat_penalty > 0.0f;
  return params_.repeat_last_n != 0 &&
         (repeat || params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f);
}

void Sampler::apply_penalties(std::span<float> logits) {
  if (!penalties_active()) return;
  const size_t n = std::min(logits.size(), counts_.size());
  const std::span<const int32_t> window = penalty_window();
  for (int32_t t : window) {
    if (static_cast<size_t>(t) < n) ++counts_[t];
  }
  const float r = params_.repeat_penalty;
  const bool repeat = r != 1.0f && r > 0.0f;
  // Second pass: each distinct token once, then clear its count for the next call.
  for (int32_t t : window) {
    if (static_cast<size_t>(t) >= n || counts_[t] == 0) continue;
    const int32_t count = counts_[t];
    counts_[t] = 0;
    float& logit = logits[t];
    if (repeat) logit = logit > 0.0f ? logit / r : logit * r;
    logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
  }
}

void Sampler::apply_logit_bias(std::span<float> logits) const {
  const size_t n = std::min(logits.size(), static_cast<size_t>(n_vocab_));
  for (const auto& [id, bias] : params_.logit_bias) {
    if (id >= 0 && static_cast<size_t>(id) < n) logits[id] += bias;
  }
}

double Sampler::next_uniform() {
  return static_cast<double>(splitmix64(&rng_state_) >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t n = std::min(logits.size(), static_cast<size_t>(n_vocab_));
  if (n == 0) return -1;
  const std::span<const float> raw = logits.first(n);
  const std::span<float> work(work_.data(), n);
  for (size_t i = 0; i < n; ++i) work[i] = std::isnan(raw[i]) ? -kInf : raw[i];
  apply_penalties(work);
  apply_logit_bias(work);

  auto fallback = [&] { return std::max(argmax(raw), 0); };
  if (!(params_.temperature > 0.0f)) {
    const int32_t best = argmax(work);
    return best >= 0 ? best : fallback();
  }

  // Only tokens still in play become candidates; a NaN made by a bias is dropped as well.
  size_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    if (work[i] > -kInf) candidates_[size++] = {static_cast<int32_t>(i), work[i], 0.0f};
  }
  if (size == 0) return fallback();
  std::span<Candidate> c(candidates_.data(), size);
  c = c.first(filter_top_k(c, params_.top_k));
  c = c.first(filter_typical(c, params_.typical_p));
  c = c.first(filter_top_p(c, params_.top_p));
  c = c.first(filter_min_p(c, params_.min_p));
  apply_temperature(c, params_.temperature);
  softmax(c);

  // Inverse CDF in the candidates' current (deterministic) order.
  const double u = next_uniform();
  double cum = 0.0;
  int32_t last_nonzero = c[0].id;
  for (const Candidate& x : c) {
    if (x.p <= 0.0f) continue;
    cum += x.p;
    last_nonzero = x.id;
    if (u < cum) return x.id;
  }
  return last_nonzero;  // u fell past the rounded total
}

}  // namespace sov::sampling
