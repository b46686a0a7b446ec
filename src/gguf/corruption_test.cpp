// Systematic corruption of a real model file: truncation at every section boundary and at
// random points, and mutated counts, lengths, shapes, types and offsets. Every variant must be
// refused (or, for harmless byte flips, parsed) without a crash or a large allocation;
// the sanitizer build runs this too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "base/mapped_file.h"
#include "base/testdata.h"
#include "gguf/file.h"

namespace sov::gguf {
namespace {

// Where each field of the file starts, found by walking the bytes the parser accepted.
struct Layout {
  std::vector<size_t> kv_starts;          // each metadata entry
  std::vector<size_t> count_fields;       // string lengths and array counts
  std::vector<size_t> tensor_starts;      // each tensor info
  std::vector<size_t> tensor_ndims;       // n_dims fields
  std::vector<size_t> tensor_ne;          // first ne of each tensor
  std::vector<size_t> tensor_types;       // type fields
  std::vector<size_t> tensor_offsets;     // offset fields
  size_t infos_end = 0;
};

struct Walker {
  const std::vector<uint8_t>& b;
  size_t pos = 0;
  Layout* layout;
  template <typename T>
  T read() {
    T x;
    std::memcpy(&x, &b[pos], sizeof(T));
    pos += sizeof(T);
    return x;
  }
  void skip_string() {
    layout->count_fields.push_back(pos);
    pos += read<uint64_t>();
  }
  void skip_value(uint32_t type) {
    static const size_t kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) return skip_string();
    if (type == 9) {
      uint32_t elem = read<uint32_t>();
      layout->count_fields.push_back(pos);
      uint64_t n = read<uint64_t>();
      for (uint64_t i = 0; i < n; ++i) skip_value(elem);
      return;
    }
    pos += kSizes[type];
  }
};

Layout walk(const std::vector<uint8_t>& b) {
  Layout layout;
  Walker w{b, 8, &layout};
  uint64_t n_tensors = w.read<uint64_t>();
  uint64_t n_kv = w.read<uint64_t>();
  for (uint64_t i = 0; i < n_kv; ++i) {
    layout.kv_starts.push_back(w.pos);
    w.skip_string();
    w.skip_value(w.read<uint32_t>());
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    layout.tensor_starts.push_back(w.pos);
    w.skip_string();
    layout.tensor_ndims.push_back(w.pos);
    uint32_t nd = w.read<uint32_t>();
    layout.tensor_ne.push_back(w.pos);
    w.pos += 8 * nd;
    layout.tensor_types.push_back(w.pos);
    w.pos += 4;
    layout.tensor_offsets.push_back(w.pos);
    w.pos += 8;
  }
  layout.infos_end = w.pos;
  return layout;
}

class GgufCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = test::testdata_dir();
    if (!dir) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    auto m = MappedFile::open(*dir + "/models/stories260K.gguf");
    ASSERT_TRUE(m.is_ok());
    bytes_.assign(m->data(), m->data() + m->size());
    auto f = File::parse(bytes_);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    data_offset_ = f->data_offset();
    for (const auto& t : f->tensors()) {
      tensor_data_starts_.push_back(data_offset_ + t.info.offset);
      data_end_ = std::max<size_t>(data_end_, data_offset_ + t.info.offset + t.info.n_bytes);
    }
    layout_ = walk(bytes_);
  }

  // Parses a truncated copy: it must be refused.
  void expect_truncation_refused(size_t n) {
    std::vector<uint8_t> cut(bytes_.begin(), bytes_.begin() + static_cast<long>(n));
    auto f = File::parse(cut);
    EXPECT_FALSE(f.is_ok()) << "truncated at " << n << " of " << bytes_.size() << " was accepted";
  }

  // Writes `value` at `at` in a copy and checks the copy is refused.
  template <typename T>
  void expect_mutation_refused(size_t at, T value, const char* what) {
    std::vector<uint8_t> copy = bytes_;
    std::memcpy(&copy[at], &value, sizeof(T));
    auto f = File::parse(copy);
    EXPECT_FALSE(f.is_ok()) << what << " at offset " << at << " was accepted";
  }

  std::vector<uint8_t> bytes_;
  uint64_t data_offset_ = 0;
  std::vector<size_t> tensor_data_starts_;
  size_t data_end_ = 0;  // end of the last tensor's bytes; only padding may follow
  Layout layout_;
};

TEST_F(GgufCorruption, TruncationAtEverySectionBoundary) {
  std::vector<size_t> cuts = {0, 3, 4, 7, 8, 15, 16, 23, 24};
  for (auto v : {&layout_.kv_starts, &layout_.tensor_starts, &tensor_data_starts_}) {
    for (size_t p : *v) {
      cuts.push_back(p);
      cuts.push_back(p + 1);
      if (p > 0) cuts.push_back(p - 1);
    }
  }
  cuts.push_back(layout_.infos_end);
  cuts.push_back(data_offset_);
  cuts.push_back(data_end_ - 1);
  for (size_t n : cuts) {
    if (n < data_end_) expect_truncation_refused(n);
  }
}

TEST_F(GgufCorruption, TruncationAtRandomPoints) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 300; ++i) expect_truncation_refused(rng() % data_end_);
}

TEST_F(GgufCorruption, MutatedCountsLengthsShapesTypesAndOffsets) {
  expect_mutation_refused<uint64_t>(8, ~0ull, "tensor count 2^64-1");
  expect_mutation_refused<uint64_t>(16, ~0ull, "metadata count 2^64-1");
  expect_mutation_refused<uint64_t>(16, 1ull << 40, "metadata count 2^40");
  for (size_t at : layout_.count_fields) {
    expect_mutation_refused<uint64_t>(at, ~0ull, "string length / array count 2^64-1");
    expect_mutation_refused<uint64_t>(at, 1ull << 62, "string length / array count 2^62");
  }
  for (size_t i = 0; i < layout_.tensor_starts.size(); ++i) {
    expect_mutation_refused<uint32_t>(layout_.tensor_ndims[i], 5, "n_dims 5");
    expect_mutation_refused<uint32_t>(layout_.tensor_ndims[i], 0, "n_dims 0");
    expect_mutation_refused<int64_t>(layout_.tensor_ne[i], -1, "negative dimension");
    expect_mutation_refused<int64_t>(layout_.tensor_ne[i], int64_t{1} << 62, "huge dimension");
    expect_mutation_refused<uint32_t>(layout_.tensor_types[i], 4, "removed type 4");
    expect_mutation_refused<uint32_t>(layout_.tensor_types[i], 0xFFFFFFFF, "type 2^32-1");
    expect_mutation_refused<uint64_t>(layout_.tensor_offsets[i], ~0ull & ~31ull, "offset far outside");
    expect_mutation_refused<uint64_t>(layout_.tensor_offsets[i], 1, "misaligned offset");
  }
  // Two tensors at the same offset overlap.
  if (layout_.tensor_offsets.size() >= 2) {
    uint64_t first;
    std::memcpy(&first, &bytes_[layout_.tensor_offsets[0]], 8);
    std::vector<uint8_t> copy = bytes_;
    std::memcpy(&copy[layout_.tensor_offsets[1]], &first, 8);
    EXPECT_FALSE(File::parse(copy).is_ok());
  }
}

TEST_F(GgufCorruption, RandomByteFlipsInTheHeaderNeverCrash) {
  std::mt19937_64 rng(7);
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> copy = bytes_;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) copy[rng() % layout_.infos_end] ^= static_cast<uint8_t>(1 + rng() % 255);
    auto f = File::parse(copy);  // either outcome is fine; a crash or leak is not
    if (!f.is_ok()) ++refused;
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace sov::gguf
