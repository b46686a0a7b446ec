// Attention over a KV cache for a block of queries that share one key/value head: causal
// (each query sees its own key range), with optional sliding window and logit soft-capping,
// computed in tiles of 16 keys with an online softmax (flash-attention style), so memory
// stays bounded by the tile whatever the context length.
//
// A block is up to 16 "lanes"; each lane is one (query head, token) pair with its query
// vector, its output vector and its key range [first, last] (positions in the cache).
// Grouped-query attention puts the query heads of one KV head, for a few tokens, in one
// block, so each key and value row is read once per block. The cache holds floats or IEEE
// half-precision values (half the memory and traffic); products and sums are float either way.
//
// The AVX-512 kernels: for more than 8 lanes (prompt processing) the lanes are the lanes of
// the vectors: scores for one key are one vector of 16 (query . key) products, built with
// FMAs that broadcast the key, and the values are accumulated the same way; for up to 8
// lanes (decode, one token's GQA group) each lane runs alone with vectors along the head
// dimension, so the work follows the lanes present. The scalar path is the reference (and the path on
// other CPUs); both compute softmax(scale * q.k, capped) . v up to float rounding.
//
// Thread-safety: pure; `scratch` (attention_scratch_floats(head_dim) floats) is per call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"

namespace sov::kernels {

inline constexpr int kAttnLanes = 16;

struct AttentionBlock {
  int n_lanes = 0;  // 1..16
  const float* q[kAttnLanes] = {};
  float* out[kAttnLanes] = {};
  int32_t first[kAttnLanes] = {};  // first key position seen by the lane
  int32_t last[kAttnLanes] = {};   // last key position seen by the lane (>= first)
};

struct AttentionParams {
  int head_dim = 0;
  float scale = 1.0f;    // multiplies q . k
  float softcap = 0.0f;  // > 0: scores become softcap * tanh(score / softcap)
  size_t kv_stride = 0;  // elements between the rows of consecutive positions in k and v
};

size_t attention_scratch_floats(int head_dim);

// out[lane] = sum_j softmax_j(score(lane, j)) * v[j] over j in [first, last], where
// score = scale * q[lane] . k[j] (soft-capped). k and v point at position 0 of the head.
void attention(const AttentionBlock& block, const float* k, const float* v, const AttentionParams& p,
               float* scratch, Isa isa);
void attention(const AttentionBlock& block, const uint16_t* k, const uint16_t* v, const AttentionParams& p,
               float* scratch, Isa isa);
template <typename T>
void attention(const AttentionBlock& block, const T* k, const T* v, const AttentionParams& p,
               float* scratch) {
  attention(block, k, v, p, scratch, active_isa());
}

}  // namespace sov::kernels
