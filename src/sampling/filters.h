// The individual stages of the sampler chain, as free functions over a candidate list.
//
// A candidate list is a caller-owned span of (token id, logit, probability). Each filter
// keeps a prefix of the span, possibly reordering it, and returns the new length; a filter
// never drops the last candidate (it keeps at least one when the input is non-empty).
// Nothing here allocates. The functions are pure apart from writing into the span, so they
// are safe to call from any thread on distinct spans. Sampler (sampler.h) chains them.
//
// Logits may be +-inf but not NaN (Sampler maps NaN to -inf before building the list).
// All orderings break ties by the lower token id, so results never depend on the sort
// algorithm: the same input always yields the same output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sov::sampling {

struct Candidate {
  int32_t id = 0;
  float logit = 0.0f;
  float p = 0.0f;  // valid only right after softmax()
};

// Sets p to softmax(logit). +inf logits share all the mass; if every logit is -inf the
// distribution is uniform (callers drop -inf candidates before this, so that is a guard).
void softmax(std::span<Candidate> c);

// Keeps the k highest logits, sorted by logit descending. k <= 0 or k >= size: no-op.
size_t filter_top_k(std::span<Candidate> c, int32_t k);

// Locally typical sampling (Meister et al. 2022): keeps the smallest set of tokens, taken
// in order of |-log p - H| (H the entropy), whose mass reaches p; the kept prefix is in
// no particular (but deterministic) order. p >= 1: no-op.
size_t filter_typical(std::span<Candidate> c, float p);

// Nucleus sampling: keeps the smallest set of highest-probability tokens whose mass
// reaches p (the token that crosses p is kept), in no particular (but deterministic) order.
// Expected O(n), with no full sort. p >= 1: no-op; p <= 0 keeps the top one.
size_t filter_top_p(std::span<Candidate> c, float p);

// Keeps tokens with probability >= p * (highest probability), in their current order.
// p <= 0: no-op. Works on logits (logit >= max + log p), so needs no softmax.
size_t filter_min_p(std::span<Candidate> c, float p);

// Divides every logit by t (t > 0), after subtracting the highest finite logit (which
// leaves the softmax unchanged and keeps tiny t from overflowing).
void apply_temperature(std::span<Candidate> c, float t);

}  // namespace sov::sampling
