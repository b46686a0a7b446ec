#include "engine/encoder/pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sov::engine {

void pool_states(const float* states, int64_t n_tokens, int32_t n_embd, int64_t stride, Pooling pooling,
                 float* out) {
  switch (pooling) {
    case Pooling::kMean: {
      // Accumulate in double so long sequences do not lose the small tokens' share.
      std::fill(out, out + n_embd, 0.0f);
      for (int32_t i = 0; i < n_embd; ++i) {
        double sum = 0.0;
        for (int64_t t = 0; t < n_tokens; ++t) sum += states[t * stride + i];
        out[i] = static_cast<float>(sum / static_cast<double>(n_tokens));
      }
      return;
    }
    case Pooling::kLast:
      std::copy(states + (n_tokens - 1) * stride, states + (n_tokens - 1) * stride + n_embd, out);
      return;
    case Pooling::kCls:
    case Pooling::kNone: std::copy(states, states + n_embd, out); return;
  }
}

void l2_normalize(float* x, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  if (sum <= 0.0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace sov::engine
