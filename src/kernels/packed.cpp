// Packed layouts. A group is 16 consecutive rows; groups are stored one after another, each
// as the sequence of its "group blocks" (the i-th block of each of the 16 rows). Within a
// group block, "interleaved" data means: chunk x holds bytes [4x, 4x + 4) of row 0, then
// of row 1, ... row 15 (64 bytes), so lane r of a 64-byte load is row r.
//
//   Q8_0  16 fp16 d, then qs interleaved (8 chunks), each byte q + 128 (unsigned)   544 B
//   Q4_0  16 fp16 d, then qs interleaved (4 chunks); a byte keeps element j in its
//         low nibble and element j + 16 in its high nibble, as in the row format    288 B
//   Q4_K  16 fp16 d, 16 fp16 dmin, the 12 scale bytes interleaved (3 chunks), then
//         qs interleaved (32 chunks; chunk 8c + p holds qs[32c + 4p ..], whose low
//         nibbles are elements 64c + 4p .. and high nibbles elements 64c + 32 + 4p ..) 2304 B
//   Q6_K  16 fp16 d; scales as [sub-block s][row r] int8 (256 B); then 32 chunks of
//         low bits: chunk x byte j = low4(q[4x + j]) | low4(q[128 + 4x + j]) << 4;
//         then 16 chunks of high bits: chunk y byte j = sum over k of
//         high2(q[64k + 4y + j]) << 2k, with q the unsigned 6-bit values 0..63      3360 B
#include "kernels/packed.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "quant/blocks.h"

namespace sov::kernels {
namespace {

using gguf::TensorType;

// Bytes of one row's block and the number of blocks per row.
struct RowFormat {
  size_t block_bytes;
  int64_t block_elems;
};

RowFormat row_format(TensorType t) {
  switch (t) {
    case TensorType::kQ8_0: return {sizeof(quant::BlockQ8_0), 32};
    case TensorType::kQ4_0: return {sizeof(quant::BlockQ4_0), 32};
    case TensorType::kQ4_K: return {sizeof(quant::BlockQ4_K), 256};
    case TensorType::kQ6_K: return {sizeof(quant::BlockQ6_K), 256};
    default: return {0, 0};
  }
}

void deinterleave(const uint8_t* in, int r, int chunks, uint8_t* dst, bool flip_sign) {
  for (int x = 0; x < chunks; ++x) {
    for (int j = 0; j < 4; ++j) {
      const uint8_t b = in[(x * kPackRows + r) * 4 + j];
      dst[4 * x + j] = flip_sign ? static_cast<uint8_t>(b ^ 0x80) : b;
    }
  }
}

// The unsigned 6-bit values of a Q6_K block.
void q6_k_values(const quant::BlockQ6_K& b, uint8_t q[256]) {
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t qh = b.qh[32 * h + l];
      q[128 * h + l] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh & 3) << 4));
      q[128 * h + l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh >> 2) & 3) << 4));
      q[128 * h + l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh >> 4) & 3) << 4));
      q[128 * h + l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh >> 6) & 3) << 4));
    }
  }
}
void q6_k_from_values(const uint8_t q[256], quant::BlockQ6_K* b) {
  std::memset(b->ql, 0, sizeof b->ql);
  std::memset(b->qh, 0, sizeof b->qh);
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      uint8_t* ql = b->ql + 64 * h;
      const uint8_t* v = q + 128 * h + l;
      ql[l] = static_cast<uint8_t>((v[0] & 0xF) | ((v[64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((v[32] & 0xF) | ((v[96] & 0xF) << 4));
      b->qh[32 * h + l] =
          static_cast<uint8_t>((v[0] >> 4) | ((v[32] >> 4) << 2) | ((v[64] >> 4) << 4) | ((v[96] >> 4) << 6));
    }
  }
}

inline void copy4(uint8_t* dst, const uint8_t* src, uint32_t flip) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  v ^= flip;
  std::memcpy(dst, &v, 4);
}

// Packs the n_blocks group blocks of one group of 16 rows. Rows are read one after
// another (sequential reads); writes land in the group's output, which stays in cache.
void pack_group(TensorType t, const uint8_t* const rows[kPackRows], int64_t n_blocks, uint8_t* out) {
  const RowFormat f = row_format(t);
  const size_t gb = f.block_bytes * kPackRows;
  switch (t) {
    case TensorType::kQ8_0:
    case TensorType::kQ4_0: {
      const int chunks = t == TensorType::kQ8_0 ? 8 : 4;
      const uint32_t flip = t == TensorType::kQ8_0 ? 0x80808080u : 0u;
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* in = rows[r];
        for (int64_t b = 0; b < n_blocks; ++b, in += f.block_bytes) {
          uint8_t* o = out + b * gb;
          std::memcpy(o + 2 * r, in, 2);  // d
          for (int x = 0; x < chunks; ++x) copy4(o + 32 + (x * kPackRows + r) * 4, in + 2 + 4 * x, flip);
        }
      }
      break;
    }
    case TensorType::kQ4_K:
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* in = rows[r];
        for (int64_t b = 0; b < n_blocks; ++b, in += f.block_bytes) {
          uint8_t* o = out + b * gb;
          std::memcpy(o + 2 * r, in, 2);           // d
          std::memcpy(o + 32 + 2 * r, in + 2, 2);  // dmin
          for (int x = 0; x < 3; ++x) copy4(o + 64 + (x * kPackRows + r) * 4, in + 4 + 4 * x, 0);
          for (int x = 0; x < 32; ++x) copy4(o + 256 + (x * kPackRows + r) * 4, in + 16 + 4 * x, 0);
        }
      }
      break;
    case TensorType::kQ6_K:
      for (int r = 0; r < kPackRows; ++r) {
        const uint8_t* in = rows[r];
        for (int64_t b = 0; b < n_blocks; ++b, in += f.block_bytes) {
          uint8_t* o = out + b * gb;
          const auto* blk = reinterpret_cast<const quant::BlockQ6_K*>(in);
          uint8_t* scales = o + 32;
          uint8_t* low = o + 32 + 256;
          uint8_t* high = low + 2048;
          std::memcpy(o + 2 * r, &blk->d, 2);
          for (int s = 0; s < 16; ++s) scales[s * kPackRows + r] = static_cast<uint8_t>(blk->scales[s]);
          uint8_t q[256];
          q6_k_values(*blk, q);
          for (int x = 0; x < 32; ++x) {
            uint8_t* dst = low + (x * kPackRows + r) * 4;
            for (int j = 0; j < 4; ++j)
              dst[j] = static_cast<uint8_t>((q[4 * x + j] & 0xF) | ((q[128 + 4 * x + j] & 0xF) << 4));
          }
          for (int y = 0; y < 16; ++y) {
            uint8_t* dst = high + (y * kPackRows + r) * 4;
            for (int j = 0; j < 4; ++j) {
              const int e = 4 * y + j;
              dst[j] = static_cast<uint8_t>(((q[e] >> 4) & 3) | (((q[64 + e] >> 4) & 3) << 2) |
                                            (((q[128 + e] >> 4) & 3) << 4) | (((q[192 + e] >> 4) & 3) << 6));
            }
          }
        }
      }
      break;
    default: break;
  }
}

}  // namespace

bool packable(const WeightView& w, Isa isa) {
  if (isa < Isa::kAvx512 || w.n_out < kPackRows || w.data == nullptr) return false;
  const RowFormat f = row_format(w.type);
  return f.block_bytes != 0 && w.n_in % f.block_elems == 0;
}

size_t packed_size(const WeightView& w) {
  const RowFormat f = row_format(w.type);
  if (f.block_bytes == 0) return 0;
  return static_cast<size_t>(w.n_out / kPackRows) * kPackRows * static_cast<size_t>(w.n_in / f.block_elems) *
         f.block_bytes;
}

void pack_groups(const WeightView& w, uint8_t* out, int64_t g0, int64_t g1, ThreadPool* pool) {
  const RowFormat f = row_format(w.type);
  if (f.block_bytes == 0 || g1 <= g0) return;
  const int64_t n_blocks = w.n_in / f.block_elems;
  const size_t group_bytes = static_cast<size_t>(n_blocks) * f.block_bytes * kPackRows;
  const auto* base = static_cast<const uint8_t*>(w.data);
  auto run = [&](size_t b, size_t e, int) {
    for (size_t g = static_cast<size_t>(g0) + b; g < static_cast<size_t>(g0) + e; ++g) {
      const uint8_t* rows[kPackRows];
      for (int r = 0; r < kPackRows; ++r) rows[r] = base + (g * kPackRows + r) * w.row_bytes;
      pack_group(w.type, rows, n_blocks, out + g * group_bytes);
    }
  };
  const size_t n = static_cast<size_t>(g1 - g0);
  if (pool != nullptr) {
    pool->parallel_for(n, run);
  } else {
    run(0, n, 0);
  }
}

void pack(const WeightView& w, uint8_t* out, ThreadPool* pool) {
  pack_groups(w, out, 0, w.n_out / kPackRows, pool);
}

void unpack_row(const WeightView& w, const uint8_t* packed, int64_t row, uint8_t* out_row) {
  const RowFormat f = row_format(w.type);
  const int64_t n_blocks = w.n_in / f.block_elems;
  const size_t gb = f.block_bytes * kPackRows;
  const uint8_t* group = packed + static_cast<size_t>(row / kPackRows) * n_blocks * gb;
  const int r = static_cast<int>(row % kPackRows);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* in = group + b * gb;
    uint8_t* o = out_row + b * f.block_bytes;
    switch (w.type) {
      case TensorType::kQ8_0:
      case TensorType::kQ4_0:
        std::memcpy(o, in + 2 * r, 2);
        deinterleave(in + 32, r, w.type == TensorType::kQ8_0 ? 8 : 4, o + 2, w.type == TensorType::kQ8_0);
        break;
      case TensorType::kQ4_K:
        std::memcpy(o, in + 2 * r, 2);
        std::memcpy(o + 2, in + 32 + 2 * r, 2);
        deinterleave(in + 64, r, 3, o + offsetof(quant::BlockQ4_K, scales), false);
        deinterleave(in + 256, r, 32, o + offsetof(quant::BlockQ4_K, qs), false);
        break;
      case TensorType::kQ6_K: {
        auto* blk = reinterpret_cast<quant::BlockQ6_K*>(o);
        std::memcpy(&blk->d, in + 2 * r, 2);
        for (int s = 0; s < 16; ++s) blk->scales[s] = static_cast<int8_t>(in[32 + s * kPackRows + r]);
        const uint8_t* low = in + 32 + 256;
        const uint8_t* high = low + 2048;
        uint8_t q[256];
        for (int x = 0; x < 32; ++x) {
          for (int j = 0; j < 4; ++j) {
            const uint8_t b = low[(x * kPackRows + r) * 4 + j];
            q[4 * x + j] = b & 0xF;
            q[128 + 4 * x + j] = b >> 4;
          }
        }
        for (int y = 0; y < 16; ++y) {
          for (int j = 0; j < 4; ++j) {
            const uint8_t b = high[(y * kPackRows + r) * 4 + j];
            for (int k = 0; k < 4; ++k)
              q[64 * k + 4 * y + j] |= static_cast<uint8_t>(((b >> (2 * k)) & 3) << 4);
          }
        }
        q6_k_from_values(q, blk);
        break;
      }
      default: break;
    }
  }
}

Result<PackedBuffer> PackedBuffer::allocate(size_t bytes) {
  PackedBuffer b;
  if (bytes == 0) return b;
  // Start on a 2 MiB boundary so that every whole 2 MiB of the buffer can be a huge page:
  // map 2 MiB more, then unmap the unaligned head and the tail.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t span = bytes + kHuge;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Status::resource_exhausted("cannot map " + std::to_string(bytes) + " bytes for packed weights");
  }
  const auto raw = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (raw + kHuge - 1) / kHuge * kHuge;
  if (start > raw) munmap(p, start - raw);
  const uintptr_t end = start + bytes;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t map_end = (end + page - 1) / page * page;
  if (raw + span > map_end) munmap(reinterpret_cast<void*>(map_end), raw + span - map_end);
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);
#endif
  b.data_ = reinterpret_cast<uint8_t*>(start);
  b.size_ = bytes;
  return b;
}

PackedBuffer::~PackedBuffer() {
  if (data_ != nullptr) munmap(data_, size_);
}

PackedBuffer& PackedBuffer::operator=(PackedBuffer&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

}  // namespace sov::kernels
