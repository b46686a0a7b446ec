// Sampler: turns one step's logits (n_vocab floats from the engine) into the next token id.
//
// The chain, in order (llama.cpp's default order):
//   1. NaN logits become -inf.
//   2. penalties    over the last repeat_last_n accepted tokens, per distinct token with
//                   count c: repeat (logit > 0 ? logit / r : logit * r), then
//                   logit -= c * frequency_penalty + presence_penalty.
//   3. logit bias   logit += bias[id]; a bias of -inf bans the token.
//                   (llama.cpp adds the bias before the penalties; the two orders differ
//                   only for a biased token that the repeat penalty also scales.)
//   -- temperature <= 0 stops here: greedy argmax, the lowest id on ties.
//   4. top_k        5. typical_p        6. top_p        7. min_p
//   8. temperature  logit /= temperature (filters 4-7 see the temperature-1 distribution)
//   9. dist         draw from the softmax of what is left, with the sampler's own RNG.
// Tokens whose logit is -inf after step 3 are never drawn. If every token is excluded the
// sampler falls back to the argmax of the raw logits (NaN ignored), or 0 if all are NaN/-inf.
//
// Ownership and threads: a Sampler owns its buffers (sized n_vocab once, in the
// constructor; sample() does not allocate) and its token history. One Sampler per sequence;
// it is thread-compatible (no shared state, no locking). A fixed seed reproduces the same
// tokens on the same logits: the RNG is our own and every ordering is a total order. (The
// order within a kept set comes from std::nth_element, so another C++ standard library
// could draw differently from the same seed.)
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "sampling/filters.h"

namespace sov::sampling {

struct SamplerParams {
  // The seed that asks for a fresh random seed; equals Ollama's -1 cast to uint64_t.
  static constexpr uint64_t kRandomSeed = ~uint64_t{0};

  // Defaults are Ollama's (api.DefaultOptions); the "off" value of each is in its comment.
  float temperature = 0.8f;        // <= 0: greedy
  int32_t top_k = 40;              // <= 0: off
  float top_p = 0.9f;              // >= 1: off
  float min_p = 0.0f;              // <= 0: off
  float typical_p = 1.0f;          // >= 1: off
  float repeat_penalty = 1.1f;     // 1: off (also off if <= 0)
  float presence_penalty = 0.0f;   // 0: off
  float frequency_penalty = 0.0f;  // 0: off
  int32_t repeat_last_n = 64;      // penalty window; 0: off; -1: every accepted token
  uint64_t seed = kRandomSeed;
  std::unordered_map<int32_t, float> logit_bias;  // ids outside [0, n_vocab) are ignored

  // Rejects values that have no meaning (NaN, probabilities outside [0, 1], negative
  // repeat penalty, repeat_last_n < -1, NaN or +inf bias). The Sampler itself accepts
  // anything and never crashes; this is for APIs that want to answer "bad request".
  Status validate() const;
};

class Sampler {
 public:
  // n_vocab <= 0 makes a sampler whose sample() always returns -1.
  Sampler(SamplerParams params, int32_t n_vocab);

  // Picks the next token. `logits` should hold n_vocab entries; a shorter span samples
  // among its entries, extra entries are ignored. Returns -1 only if `logits` is empty.
  // Does not record the token: call accept() with the token actually used.
  int32_t sample(std::span<const float> logits);

  // Records a token for the penalties (prompt tokens may be accepted too). Ids outside
  // [0, n_vocab) are ignored.
  void accept(int32_t token);

  // Forgets the history and rewinds the RNG to its seed: the same calls replay exactly.
  void reset();

  // Steps 2 and 3 of the chain, in place on logits[0 .. min(size, n_vocab)). Exposed so
  // tests and callers can see what the chain does to the logits.
  void apply_penalties(std::span<float> logits);
  void apply_logit_bias(std::span<float> logits) const;

  const SamplerParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }
  // The seed in use (the drawn one when params.seed was kRandomSeed), for logging/replay.
  uint64_t seed() const { return seed_; }

 private:
  std::span<const int32_t> penalty_window() const;
  bool penalties_active() const;
  double next_uniform();  // in [0, 1)

  SamplerParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  uint64_t rng_state_;
  std::vector<float> work_;            // n_vocab: the logits being transformed
  std::vector<Candidate> candidates_;  // n_vocab
  std::vector<int32_t> counts_;        // n_vocab, all zero between calls
  std::vector<int32_t> history_;       // accepted tokens, trimmed to the window lazily
};

}  // namespace sov::sampling
