// Log-probabilities of one step's logits for APIs that report them (OpenAI `logprobs`).
// Computed from the model's raw logits (before penalties and temperature), as a
// numerically stable log-softmax. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace sov::scheduler {

struct StepLogprobs {
  float chosen = 0;                            // log p(chosen token)
  std::vector<std::pair<int32_t, float>> top;  // the n_top most likely tokens, best first (lowest id on ties)
};

StepLogprobs compute_logprobs(std::span<const float> logits, int32_t chosen, int32_t n_top);

}  // namespace sov::scheduler
