// Pooling of token states into one vector per sequence, and L2 normalisation. Pure
// functions on float rows; thread-safe; none allocates.
#pragma once

#include <cstdint>

#include "engine/encoder/encoder_model.h"

namespace sov::engine {

// out[n_embd] from states [n_tokens][n_embd] (rows `stride` floats apart):
// kMean averages every token, kCls takes the first, kLast the last. kNone is not a pooling:
// it copies the first token (callers refuse it before).
void pool_states(const float* states, int64_t n_tokens, int32_t n_embd, int64_t stride, Pooling pooling,
                 float* out);

// x /= |x|₂ in place; a zero vector stays zero.
void l2_normalize(float* x, int64_t n);

}  // namespace sov::engine
