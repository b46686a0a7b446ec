#include "kernels/matmul.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <string>

#include "kernels/packed.h"
#include "kernels/type_kernels.h"
#include "quant/fp16.h"
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
void convert_rows(Convert&& convert, int64_t n_tokens, int64_t n_in, ThreadPool* pool) {
  if (pool != nullptr && n_tokens > 1) {
    // Chunks of at least ~16k values: a few rows are converted faster than handed to a thread.
    const size_t grain = static_cast<size_t>(std::max<int64_t>(1, 16384 / n_in));
    pool->parallel_for(
        static_cast<size_t>(n_tokens),
        [&](size_t t0, size_t t1, int) {
          for (size_t t = t0; t < t1; ++t) convert(static_cast<int64_t>(t));
        },
        grain);
  } else {
    for (int64_t t = 0; t < n_tokens; ++t) convert(t);
  }
}

#if defined(SOV_HAVE_X86_KERNELS)
// BF16 weights on CPUs with vdpbf16ps: the activations are rounded to bf16 (as for the other
// BF16 paths) and kept as bf16, two products per lane and instruction.
bool use_bf16_dot(const WeightView& w) {
  return w.type == gguf::TensorType::kBF16 && active_isa() >= Isa::kAvx512 && has_avx512_bf16() &&
         w.n_in % 32 == 0;
}

const uint16_t* bf16_activations(const float* x, int64_t n_in, int64_t n_tokens, Scratch* s,
                                 ThreadPool* pool) {
  const size_t need = static_cast<size_t>(n_in * n_tokens) * sizeof(uint16_t);
  if (s->act.size() < need) s->act.resize(need);
  auto* a = reinterpret_cast<uint16_t*>(s->act.data());
  convert_rows([&](int64_t t) { quant::fp32_to_bf16_row(x + t * n_in, a + t * n_in, n_in); }, n_tokens, n_in,
               pool);
  return a;
}

// Groups of 16 packed rows per chunk handed to a thread: at least ~32 KiB of weights, since
// smaller chunks cost more in hand-offs than they save in balance.
size_t packed_grain(size_t row_bytes) {
  return std::max<size_t>(1, 32768 / (row_bytes * kPackRows));
}

// Rows [0, n_out / 16 * 16) from the packed copy.
void packed_matmul(const x86::PackedKernel& pk, const WeightView& w, const float* x, int64_t n_tokens,
                   float* y, Scratch* s, ThreadPool* pool) {
  const size_t stride = (pk.act_bytes(w.n_in) + 63) / 64 * 64;
  const size_t need = stride * static_cast<size_t>(n_tokens);
  if (s->packed_act.size() < need) s->packed_act.resize(need);
  uint8_t* act = s->packed_act.data();
  convert_rows([&](int64_t t) { pk.from_float(x + t * w.n_in, act + t * stride, w.n_in); }, n_tokens, w.n_in,
               pool);
  const int64_t n_groups = w.n_out / kPackRows;
  auto run = [&](size_t g0, size_t g1, int) {
    pk.gemm(w.packed, w.n_in, static_cast<int64_t>(g0), static_cast<int64_t>(g1), act, stride, n_tokens, y,
            w.n_out);
  };
  if (pool == nullptr || pool->size() == 1) {
    run(0, static_cast<size_t>(n_groups), 0);
  } else {
    pool->parallel_for(static_cast<size_t>(n_groups), run, packed_grain(w.row_bytes));
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

#if defined(SOV_HAVE_X86_KERNELS)
  if (use_bf16_dot(w)) {
    const uint16_t* a = bf16_activations(x, w.n_in, n_tokens, s, pool);
    auto run = [&](size_t r0, size_t r1, int) {
      x86::avx512_bf16_gemm(w.data, w.row_bytes, w.n_in, row0 + static_cast<int64_t>(r0),
                            row0 + static_cast<int64_t>(r1), a, n_tokens, y, w.n_out);
    };
    const size_t rows = static_cast<size_t>(w.n_out - row0);
    if (pool == nullptr || pool->size() == 1) {
      run(0, rows, 0);
    } else {
      pool->parallel_for(rows, run, 8);
    }
    return;
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
                 n_tokens, w.n_in, pool);
    act = s->act.data();
  }

#if defined(SOV_HAVE_X86_KERNELS)
  // Float weight formats: row-major register tiles (no packed copy needed).
  if (active_isa() >= Isa::kAvx512 && w.n_in % 16 == 0) {
    if (x86::FloatGemmFn gemm = x86::avx512_float_gemm(w.type)) {
      const auto* af = reinterpret_cast<const float*>(act);
      auto run = [&](size_t r0, size_t r1, int) {
        gemm(w.data, w.row_bytes, w.n_in, row0 + static_cast<int64_t>(r0), row0 + static_cast<int64_t>(r1),
             af, n_tokens, y, w.n_out);
      };
      const size_t rows = static_cast<size_t>(w.n_out - row0);
      if (pool == nullptr || pool->size() == 1) {
        run(0, rows, 0);
      } else {
        pool->parallel_for(rows, run, 8);
      }
      return;
    }
  }
#endif

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

void matmul_many(std::span<const MatmulTarget> targets, const float* x, int64_t n_tokens, Scratch* scratch,
                 ThreadPool* pool) {
  if (targets.empty() || n_tokens <= 0) return;
  const WeightView& w0 = *targets[0].w;
  bool same = true;
  for (const MatmulTarget& t : targets) same = same && t.w->type == w0.type && t.w->n_in == w0.n_in;
#if defined(SOV_HAVE_X86_KERNELS)
  static thread_local Scratch fallback;
  Scratch* s = scratch != nullptr ? scratch : &fallback;
  const bool avx512 = active_isa() >= Isa::kAvx512;
  const x86::PackedKernel* pk = same && avx512 ? x86::avx512_packed(w0.type) : nullptr;
  for (const MatmulTarget& t : targets)
    pk = t.w->packed != nullptr && t.w->n_out % kPackRows == 0 ? pk : nullptr;
  const bool bf16 = same && use_bf16_dot(w0);
  const x86::FloatGemmFn fg =
      same && avx512 && !bf16 && w0.n_in % 16 == 0 ? x86::avx512_float_gemm(w0.type) : nullptr;
  if (targets.size() > 1 && (pk != nullptr || fg != nullptr || bf16)) {
    // One unit = a group of 16 rows (packed) or one row (float formats); units of all
    // targets are numbered one after another.
    const uint8_t* act;
    size_t stride;
    if (pk != nullptr) {
      stride = (pk->act_bytes(w0.n_in) + 63) / 64 * 64;
      const size_t need = stride * static_cast<size_t>(n_tokens);
      if (s->packed_act.size() < need) s->packed_act.resize(need);
      uint8_t* a = s->packed_act.data();
      convert_rows([&](int64_t t) { pk->from_float(x + t * w0.n_in, a + t * stride, w0.n_in); }, n_tokens,
                   w0.n_in, pool);
      act = a;
    } else if (bf16) {
      act = reinterpret_cast<const uint8_t*>(bf16_activations(x, w0.n_in, n_tokens, s, pool));
      stride = static_cast<size_t>(w0.n_in) * sizeof(uint16_t);
    } else {
      const TypeKernels* k = type_kernels(w0.type);
      stride = static_cast<size_t>(w0.n_in) * sizeof(float);
      act = reinterpret_cast<const uint8_t*>(x);
      if (k->from_float != nullptr) {
        const size_t need = stride * static_cast<size_t>(n_tokens);
        if (s->act.size() < need) s->act.resize(need);
        uint8_t* a = s->act.data();
        convert_rows([&](int64_t t) { k->from_float(x + t * w0.n_in, a + t * stride, w0.n_in); }, n_tokens,
                     w0.n_in, pool);
        act = a;
      }
    }
    const int64_t per_unit = pk != nullptr ? kPackRows : 1;
    size_t total = 0;
    for (const MatmulTarget& t : targets) total += static_cast<size_t>(t.w->n_out / per_unit);
    auto run = [&](size_t u0, size_t u1, int) {
      size_t base = 0;
      for (const MatmulTarget& t : targets) {
        const size_t units = static_cast<size_t>(t.w->n_out / per_unit);
        const size_t b = std::max(u0, base), e = std::min(u1, base + units);
        if (b < e) {
          const auto lo = static_cast<int64_t>(b - base), hi = static_cast<int64_t>(e - base);
          if (pk != nullptr) {
            pk->gemm(t.w->packed, w0.n_in, lo, hi, act, stride, n_tokens, t.y, t.w->n_out);
          } else if (bf16) {
            x86::avx512_bf16_gemm(t.w->data, t.w->row_bytes, w0.n_in, lo, hi,
                                  reinterpret_cast<const uint16_t*>(act), n_tokens, t.y, t.w->n_out);
          } else {
            fg(t.w->data, t.w->row_bytes, w0.n_in, lo, hi, reinterpret_cast<const float*>(act), n_tokens, t.y,
               t.w->n_out);
          }
        }
        base += units;
      }
    };
    if (pool == nullptr || pool->size() == 1) {
      run(0, total, 0);
    } else {
      pool->parallel_for(total, run, pk != nullptr ? packed_grain(w0.row_bytes) : 8);
    }
    return;
  }
#endif
  for (const MatmulTarget& t : targets) matmul(*t.w, x, n_tokens, t.y, scratch, pool);
}

void dequantize_row(const WeightView& w, int64_t row, float* out) {
  const auto* src = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * w.row_bytes;
  if (w.packed != nullptr && row < w.n_out / kPackRows * kPackRows) {
    // From the packed copy, so that the original pages (which may have been released) stay
    // untouched; the per-thread row buffer grows once.
    static thread_local std::vector<uint8_t> unpacked;
    if (unpacked.size() < w.row_bytes) unpacked.resize(w.row_bytes);
    unpack_row(w, w.packed, row, unpacked.data());
    src = unpacked.data();
  }
  const Status s = quant::dequantize_row(w.type, src, out, w.n_in);
  assert(s.is_ok() && "dequantize_row on an unsupported weight; call validate() at load");
  if (!s.is_ok()) std::fill(out, out + w.n_in, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace sov::kernels
