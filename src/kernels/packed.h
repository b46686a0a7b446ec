// Interleaved ("packed") weight layouts for the AVX-512 matmul kernels.
//
// A packed weight stores its rows in groups of 16: for every block of the row format, the
// 16 rows' scales side by side, then their quantized values interleaved 4 bytes at a time,
// so that one 64-byte load holds the same 4 columns of 16 rows and one vpdpbusd (or FMA)
// updates 16 output rows at once, with no horizontal sums and one scale conversion per 16
// blocks. Matrix-vector products then stream the weights at memory speed and
// matrix-matrix products reuse each unpacked weight register for up to 8 tokens.
// The layouts keep the byte size of the original rows (no memory overhead besides the copy);
// see packed.cpp for each type's layout.
//
// Packed types: Q4_0, Q8_0, Q4_K, Q6_K (the types of Q8_0, Q4_0 and Q4_K_M models). Float
// formats need no packing: their row-major tiles (x86/float_gemm_avx512.cpp) are as fast. Only the first
// n_out / 16 * 16 rows are packed; the remaining rows (if any) are computed from the original layout. Packing
// happens once at model load (engine/model.cpp); matmul uses the packed copy when WeightView::packed is set
// and the active ISA has the packed kernels, else the original layout, so tests can run every path on one
// model.
//
// Thread-safety: pure functions; PackedBuffer is move-only and not shared while written.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"

namespace sov::kernels {

inline constexpr int kPackRows = 16;

// True when w's type has a packed layout and kernel for `isa` and w has >= 16 rows.
bool packable(const WeightView& w, Isa isa);
inline bool packable(const WeightView& w) {
  return packable(w, best_isa());
}
// Bytes of the packed copy of rows [0, n_out / 16 * 16).
size_t packed_size(const WeightView& w);
// Writes the packed copy of w (packed_size(w) bytes) to out; pool may be null.
void pack(const WeightView& w, uint8_t* out, ThreadPool* pool);
// Writes groups [g0, g1) of the packed copy (rows [16 g0, 16 g1)) to their place in out.
void pack_groups(const WeightView& w, uint8_t* out, int64_t g0, int64_t g1, ThreadPool* pool);
// Reads row `row` (< n_out / 16 * 16) back out of a packed copy in the original row format
// (tests: packing must be lossless).
void unpack_row(const WeightView& w, const uint8_t* packed, int64_t row, uint8_t* out_row);

// Memory for packed weights: starts on a 2 MiB boundary and is advised as transparent huge
// pages (used where the kernel allows it: fewer TLB misses while streaming the weights).
// Engines put all of a model's packed matrices in one buffer: most are smaller than 2 MiB.
class PackedBuffer {
 public:
  PackedBuffer() = default;
  // Fails (ResourceExhausted) when the memory cannot be mapped.
  static Result<PackedBuffer> allocate(size_t bytes);
  ~PackedBuffer();
  PackedBuffer(PackedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  PackedBuffer& operator=(PackedBuffer&& o) noexcept;
  PackedBuffer(const PackedBuffer&) = delete;
  PackedBuffer& operator=(const PackedBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace sov::kernels
