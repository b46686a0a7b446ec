#include "kernels/matmul.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <string>

#include "kernels/packed.h"
#include "kernels/type_kernels.h"
#include "quant/quant.h"
#if defined(SOV_HAVE_X86_KERNELS)
#include "kernels/x86/x86_kernels.h"
#endif

namespace sov::kernels {
namespace {

// Work shared by the threads of one matmul call (captured by reference, so handing it to
// the pool's std::function does not allocate).
struct Job {
  const TypeKernels* k;
  const uint8_t* w;
  size_t w_stride;
  int64_t n_in;
  int64_t n_out;
  const uint8_t* act;
  size_t act_stride;
  int64_t n_tokens;
  float* y;
  int64_t rows_per_tile;
  int64_t tokens_per_tile;  // a multiple of 4
};

// Rows [r0, r1) for every token, in tiles: a tile of weight rows and a tile of activation
// rows both sized to stay in L2 while every pair is computed, so each weight byte comes
// from memory once and each activation row from memory once per row tile. Within a tile a
// weight row is reused by consecutive groups of 4 tokens from L1.
void run_rows(const Job& j, int64_t r0, int64_t r1) {
  for (int64_t o0 = r0; o0 < r1; o0 += j.rows_per_tile) {
    const int64_t o1 = std::min(r1, o0 + j.rows_per_tile);
    for (int64_t t0 = 0; t0 < j.n_tokens; t0 += j.tokens_per_tile) {
      const int64_t t1 = std::min(j.n_tokens, t0 + j.tokens_per_tile);
      for (int64_t o = o0; o < o1; ++o) {
        const uint8_t* w = j.w + o * j.w_stride;
        int64_t t = t0;
        if (j.k->vec_dot_x4 != nullptr) {
          for (; t + 4 <= t1; t += 4) {
            float out[4];
            j.k->vec_dot_x4(j.n_in, w, j.act + t * j.act_stride, j.act_stride, out);
            for (int i = 0; i < 4; ++i) j.y[(t + i) * j.n_out + o] = out[i];
          }
        }
        for (; t < t1; ++t) j.y[t * j.n_out + o] = j.k->vec_dot(j.n_in, w, j.act + t * j.act_stride);
      }
    }
  }
}

struct ActJob {
  FromFloatFn from_float;
  const float* x;
  int64_t n_in;
  uint8_t* act;
  size_t act_stride;
};

// Converts n_tokens rows of activations, split over the pool's threads when there are several.
template <typename Convert>
void convert_rows(Convert&& convert, int64_t n_tokens, ThreadPool* pool) {
  if (pool != nullptr && n_tokens > 1) {
    pool->parallel_for(static_cast<size_t>(n_tokens), [&](size_t t0, size_t t1, int) {
      for (size_t t = t0; t < t1; ++t) convert(static_cast<int64_t>(t));
    });
  } else {
    for (int64_t t = 0; t < n_tokens; ++t) convert(t);
  }
}

#if defined(SOV_HAVE_X86_KERNELS)
// Rows [0, n_out / 16 * 16) from the packed copy.
void packed_matmul(const x86::PackedKernel& pk, const WeightView& w, const float* x, int64_t n_tokens, float* y,
                   Scratch* s, ThreadPool* pool) {
  const size_t stride = (pk.act_bytes(w.n_in) + 63) / 64 * 64;
  const size_t need = stride * static_cast<size_t>(n_tokens);
  if (s->packed_act.size() < need) s->packed_act.resize(need);
  uint8_t* act = s->packed_act.data();
  convert_rows([&](int64_t t) { pk.from_float(x + t * w.n_in, act + t * stride, w.n_in); }, n_tokens, pool);
  const int64_t n_groups = w.n_out / kPackRows;
  auto run = [&](size_t g0, size_t g1, int) {
    pk.gemm(w.packed, w.n_in, static_cast<int64_t>(g0), static_cast<int64_t>(g1), act, stride, n_tokens, y, w.n_out);
  };
  if (pool == nullptr || pool->size() == 1) {
    run(0, static_cast<size_t>(n_groups), 0);
  } else {
    pool->parallel_for(static_cast<size_t>(n_groups), run);
  }
}
#endif

}  // namespace

bool supports(gguf::TensorType t) {
  return type_kernels(t, Isa::kScalar) != nullptr;
}

Status validate(const WeightView& w) {
  const TypeKernels* k = type_kernels(w.type, Isa::kScalar);
  if (k == nullptr)
    return Status::unsupported("no matmul kernel for tensor type " + std::string(gguf::type_name(w.type)));
  const auto bytes = gguf::row_bytes(w.type, w.n_in);
  if (w.n_in <= 0 || w.n_out <= 0 || !bytes || w.n_in % k->block_size != 0) {
    return Status::invalid_argument("matmul weight of type " + std::string(gguf::type_name(w.type)) +
                                    " with rows of " + std::to_string(w.n_in) +
                                    " elements is not supported (multiple of " +
                                    std::to_string(k->block_size) + " needed)");
  }
  if (w.row_bytes < *bytes)
    return Status::invalid_argument("matmul weight rows overlap (row_bytes too small)");
  return Status::ok();
}

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, Scratch* scratch,
            ThreadPool* pool) {
  if (n_tokens <= 0) return;
  const TypeKernels* k = type_kernels(w.type);
  if (k == nullptr || w.n_in % k->block_size != 0) {
    // Callers validate weights at load time (validate()); reaching this is a bug. Poison
    // the output rather than read out of bounds.
    assert(false && "matmul on an unsupported weight; call validate() at load");
    std::fill(y, y + n_tokens * w.n_out, std::numeric_limits<float>::quiet_NaN());
    return;
  }

  static thread_local Scratch fallback;
  Scratch* s = scratch != nullptr ? scratch : &fallback;
  int64_t row0 = 0;  // rows below are done by the packed kernels
#if defined(SOV_HAVE_X86_KERNELS)
  if (w.packed != nullptr && active_isa() >= Isa::kAvx512) {
    if (const x86::PackedKernel* pk = x86::avx512_packed(w.type)) {
      packed_matmul(*pk, w, x, n_tokens, y, s, pool);
      row0 = w.n_out / kPackRows * kPackRows;
      if (row0 == w.n_out) return;
    }
  }
#endif

  // 1. Activations in the format the dot product reads.
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_stride = static_cast<size_t>(w.n_in) * sizeof(float);
  if (k->from_float != nullptr) {
    act_stride = *gguf::row_bytes(k->vec_dot_type, w.n_in);
    const size_t need = act_stride * static_cast<size_t>(n_tokens);
    if (s->act.size() < need) s->act.resize(need);
    ActJob aj{k->from_float, x, w.n_in, s->act.data(), act_stride};
    convert_rows([&aj](int64_t t) { aj.from_float(aj.x + t * aj.n_in, aj.act + t * aj.act_stride, aj.n_in); },
                 n_tokens, pool);
    act = s->act.data();
  }

  // 2. Output rows split over the threads.
  // Half of a typical 512 KB - 2 MB L2 for each operand's tile.
  constexpr int64_t kTileBytes = 256 * 1024;
  Job job;
  job.k = k;
  job.w = static_cast<const uint8_t*>(w.data);
  job.w_stride = w.row_bytes;
  job.n_in = w.n_in;
  job.n_out = w.n_out;
  job.act = act;
  job.act_stride = act_stride;
  job.n_tokens = n_tokens;
  job.y = y;
  job.rows_per_tile = std::max<int64_t>(4, kTileBytes / static_cast<int64_t>(w.row_bytes));
  job.tokens_per_tile = std::max<int64_t>(4, kTileBytes / static_cast<int64_t>(act_stride) / 4 * 4);
  const size_t rows = static_cast<size_t>(w.n_out - row0);
  if (pool == nullptr || pool->size() == 1 || rows < 8) {
    run_rows(job, row0, w.n_out);
    return;
  }
  pool->parallel_for(
      rows, [&job, row0](size_t r0, size_t r1, int) { run_rows(job, row0 + r0, row0 + r1); }, 4);
}

void dequantize_row(const WeightView& w, int64_t row, float* out) {
  const auto* src = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * w.row_bytes;
  const Status s = quant::dequantize_row(w.type, src, out, w.n_in);
  assert(s.is_ok() && "dequantize_row on an unsupported weight; call validate() at load");
  if (!s.is_ok()) std::fill(out, out + w.n_in, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace sov::kernels
