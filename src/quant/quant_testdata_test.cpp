// Validates the bit layout of every format against files written by llama-quantize: the
// synth-llama-<TYPE>.gguf files were quantized from synth-llama-F32.gguf, so dequantizing
// them must give back the F32 weights within the format's precision, and quantizing the
// F32 weights ourselves must reproduce their bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/testdata.h"
#include "gguf/file.h"
#include "quant/quant.h"
#include "quant/rmse_limits_test_util.h"

namespace sov::quant {
namespace {

using gguf::TensorType;

class QuantTestdata : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantTestdata, DequantizesToSourceAndRequantizesToSameBytes) {
  SOV_REQUIRE_TESTDATA(dir);
  auto f32 = gguf::File::open(dir + "/models/synth-llama-F32.gguf");
  ASSERT_TRUE(f32.is_ok()) << f32.status().to_string();
  auto qf = gguf::File::open(dir + "/models/synth-llama-" + GetParam() + ".gguf");
  ASSERT_TRUE(qf.is_ok()) << qf.status().to_string();

  std::map<TensorType, std::pair<int64_t, int64_t>> same_blocks;  // type -> (identical, total)
  int n_checked = 0;
  for (const auto& t : qf->tensors()) {
    const auto* src = f32->find_tensor(t.info.name);
    ASSERT_NE(src, nullptr) << t.info.name;
    ASSERT_EQ(src->info.type, TensorType::kF32);
    ASSERT_EQ(src->info.n_elements(), t.info.n_elements());
    const int64_t n = t.info.ne[0], rows = t.info.n_rows();
    const size_t row_bytes = *gguf::row_bytes(t.info.type, n);
    const auto* ref = reinterpret_cast<const float*>(src->data);

    // Dequantize and compare with the source.
    std::vector<float> deq(n);
    double err = 0, sig = 0;
    for (int64_t r = 0; r < rows; ++r) {
      ASSERT_TRUE(dequantize_row(t.info.type, t.data + r * row_bytes, deq.data(), n).is_ok());
      for (int64_t i = 0; i < n; ++i) {
        const double e = double(deq[i]) - ref[r * n + i];
        err += e * e;
        sig += double(ref[r * n + i]) * ref[r * n + i];
      }
    }
    const double rel = std::sqrt(err / sig);
    if (t.info.type == TensorType::kF32) {
      EXPECT_EQ(rel, 0.0) << t.info.name;
      continue;
    }
    EXPECT_LT(rel, test::rmse_limit(t.info.type)) << t.info.name << " " << gguf::type_name(t.info.type);
    EXPECT_GT(rel, test::rmse_limit(t.info.type) / 2) << t.info.name;

    // Quantize the source ourselves and compare block by block.
    const auto tr = gguf::traits(t.info.type);
    std::vector<uint8_t> mine(row_bytes);
    auto& counts = same_blocks[t.info.type];
    for (int64_t r = 0; r < rows; ++r) {
      ASSERT_TRUE(quantize_row(t.info.type, ref + r * n, mine.data(), n).is_ok());
      const uint8_t* theirs = t.data + r * row_bytes;
      for (size_t b = 0; b < row_bytes / tr.type_size; ++b) {
        counts.first +=
            std::memcmp(mine.data() + b * tr.type_size, theirs + b * tr.type_size, tr.type_size) == 0;
        ++counts.second;
      }
    }
    ++n_checked;
  }
  EXPECT_GT(n_checked, 0);
  for (const auto& [type, c] : same_blocks) {
    const double frac = double(c.first) / double(c.second);
    std::printf("%-9s %-5s identical blocks: %lld / %lld (%.4f%%)\n", GetParam().c_str(),
                std::string(gguf::type_name(type)).c_str(), static_cast<long long>(c.first),
                static_cast<long long>(c.second), 100.0 * frac);
    EXPECT_EQ(c.first, c.second) << gguf::type_name(type);
  }
}

INSTANTIATE_TEST_SUITE_P(SynthLlama, QuantTestdata,
                         ::testing::Values("F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_1", "Q5_0", "Q4_K_M",
                                           "Q4_1", "Q4_0", "Q3_K_M", "Q2_K"));

}  // namespace
}  // namespace sov::quant
