// Packed layouts: packing is lossless, and the packed AVX-512 kernels agree with a
// double-precision product over the same 8-bit activations (and with the scalar path) for
// every packed type, token count (micro-kernel tiles and remainders), thread count, and
// with rows that do not fill a last group of 16.
#include "kernels/packed.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/type_kernels.h"
#include "quant/quant.h"

namespace sov::kernels {
namespace {

using gguf::TensorType;

const TensorType kPackedTypes[] = {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_K,
                                   TensorType::kQ6_K};

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct Weights {
  TensorType type;
  int64_t n_in, n_out;
  std::vector<uint8_t> bytes;
  size_t row_bytes;
  WeightView view() const { return {type, bytes.data(), n_in, n_out, row_bytes}; }
};

Weights make_weights(TensorType t, int64_t n_in, int64_t n_out, uint32_t seed) {
  Weights w{t, n_in, n_out, {}, *gguf::row_bytes(t, n_in)};
  w.bytes.resize(w.row_bytes * n_out);
  const auto f = gaussian(n_in * n_out, seed, 0.02f);
  for (int64_t o = 0; o < n_out; ++o) {
    EXPECT_TRUE(quant::quantize_row(t, f.data() + o * n_in, w.bytes.data() + o * w.row_bytes, n_in).is_ok());
  }
  return w;
}

class PackedTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(PackedTest, PackingIsLossless) {
  const TensorType t = GetParam();
  const Weights w = make_weights(t, 512, 37, 5);
  ASSERT_TRUE(packable(w.view(), Isa::kAvx512));
  EXPECT_FALSE(packable(w.view(), Isa::kAvx2));
  const size_t size = packed_size(w.view());
  EXPECT_EQ(size, w.row_bytes * 32);  // the same bytes per row, for the two full groups
  std::vector<uint8_t> packed(size);
  ThreadPool pool(2);
  pack(w.view(), packed.data(), &pool);
  std::vector<uint8_t> row(w.row_bytes);
  for (int64_t r = 0; r < 32; ++r) {
    unpack_row(w.view(), packed.data(), r, row.data());
    ASSERT_EQ(0, std::memcmp(row.data(), w.bytes.data() + r * w.row_bytes, w.row_bytes))
        << gguf::type_name(t) << " row " << r;
  }
}

TEST_P(PackedTest, KernelsMatchDoublePrecisionAndTheScalarPath) {
  const TensorType t = GetParam();
  if (best_isa() < Isa::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  const int64_t n_in = 512, n_out = 37;  // two groups of 16 and 5 row-major rows
  const Weights w = make_weights(t, n_in, n_out, 11);
  auto buffer = PackedBuffer::allocate(packed_size(w.view()));
  ASSERT_TRUE(buffer.is_ok());
  pack(w.view(), buffer->data(), nullptr);
  WeightView pv = w.view();
  pv.packed = buffer->data();

  const TypeKernels* k = type_kernels(t, Isa::kScalar);
  ThreadPool pool(2);
  const Isa saved = active_isa();
  for (int64_t n_tok : {1, 2, 3, 8, 13, 20}) {
    const auto x = gaussian(n_in * n_tok, 23 + static_cast<uint32_t>(n_tok), 1.0f);
    // Double-precision reference over the dequantized weights and the activations as the
    // kernels see them (8-bit blocks or fp16-rounded floats).
    std::vector<double> exact(n_tok * n_out), magnitude(n_tok * n_out);
    std::vector<float> wd(n_in), ad(n_in);
    std::vector<uint8_t> act(k->from_float ? *gguf::row_bytes(k->vec_dot_type, n_in) : 0);
    for (int64_t tok = 0; tok < n_tok; ++tok) {
      k->from_float(x.data() + tok * n_in,
                    k->vec_dot_type == TensorType::kF32 ? static_cast<void*>(ad.data())
                                                        : static_cast<void*>(act.data()),
                    n_in);
      if (k->vec_dot_type != TensorType::kF32) {
        ASSERT_TRUE(quant::dequantize_row(k->vec_dot_type, act.data(), ad.data(), n_in).is_ok());
      }
      for (int64_t o = 0; o < n_out; ++o) {
        ASSERT_TRUE(quant::dequantize_row(t, w.bytes.data() + o * w.row_bytes, wd.data(), n_in).is_ok());
        double e = 0, m = 0;
        for (int64_t i = 0; i < n_in; ++i) {
          e += double(wd[i]) * ad[i];
          m += std::fabs(double(wd[i]) * ad[i]);
        }
        exact[tok * n_out + o] = e;
        magnitude[tok * n_out + o] = m;
      }
    }
    std::vector<float> scalar(n_tok * n_out);
    set_isa(Isa::kScalar);
    matmul(pv, x.data(), n_tok, scalar.data(), nullptr, nullptr);  // packed copy ignored below AVX-512
    set_isa(Isa::kAvx512);
    for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> y(n_tok * n_out, -1.0f);
      Scratch scratch;
      matmul(pv, x.data(), n_tok, y.data(), &scratch, tp);
      EXPECT_FALSE(scratch.packed_act.empty()) << "the packed kernels did not run";
      for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_NEAR(y[i], exact[i], 2e-6 * magnitude[i] + 1e-30)
            << gguf::type_name(t) << " tokens=" << n_tok << " i=" << i;
        ASSERT_NEAR(y[i], scalar[i], 4e-6 * magnitude[i] + 1e-30) << gguf::type_name(t) << " vs scalar";
      }
    }
  }
  set_isa(saved);
}

INSTANTIATE_TEST_SUITE_P(PackedTypes, PackedTest, ::testing::ValuesIn(kPackedTypes),
                         [](const auto& info) { return std::string(gguf::type_name(info.param)); });

TEST(Packed, OnlyPackedTypesWithEnoughRows) {
  uint8_t dummy[4096] = {};
  EXPECT_FALSE(packable({TensorType::kQ5_K, dummy, 256, 32, 176}, Isa::kAvx512));
  EXPECT_FALSE(packable({TensorType::kF32, dummy, 32, 32, 128}, Isa::kAvx512));
  EXPECT_FALSE(packable({TensorType::kF16, dummy, 32, 32, 64}, Isa::kAvx512));
  EXPECT_FALSE(packable({TensorType::kQ4_0, dummy, 32, 15, 18}, Isa::kAvx512));  // fewer than 16 rows
  EXPECT_TRUE(packable({TensorType::kQ4_0, dummy, 32, 16, 18}, Isa::kAvx512));
  EXPECT_EQ(packed_size({TensorType::kQ4_0, dummy, 64, 40, 36}), 32u * 36u);
}

}  // namespace
}  // namespace sov::kernels

namespace sov::kernels {
namespace {

// matmul_many gives exactly what separate matmul calls give: packed weights sharing one
// conversion, float weights, and a mix of types (which falls back to separate calls).
// Buffers start on a 2 MiB boundary (so every whole 2 MiB can be a transparent huge page),
// and all of a buffer can be written, also when its size is not a multiple of the page.
TEST(Packed, BuffersAreHugePageAligned) {
  for (size_t bytes : {size_t{100}, size_t{3} << 20, (size_t{5} << 20) + 4097}) {
    auto buffer = PackedBuffer::allocate(bytes);
    ASSERT_TRUE(buffer.is_ok());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % (size_t{2} << 20), 0u) << bytes;
    EXPECT_EQ(buffer->size(), bytes);
    std::memset(buffer->data(), 0x5a, bytes);
    EXPECT_EQ(buffer->data()[bytes - 1], 0x5a);
  }
}

TEST(MatmulMany, EqualsSeparateCalls) {
  const std::vector<std::vector<TensorType>> sets = {
      {TensorType::kQ4_0, TensorType::kQ4_0, TensorType::kQ4_0},
      {TensorType::kQ4_K, TensorType::kQ4_K},
      {TensorType::kF16, TensorType::kF16, TensorType::kF16},
      {TensorType::kBF16, TensorType::kBF16},
      {TensorType::kQ4_0, TensorType::kQ8_0},
  };
  const int64_t n_in = 512;
  const int64_t n_outs[] = {64, 32, 48};
  ThreadPool pool(2);
  for (const auto& types : sets) {
    std::vector<Weights> ws;
    std::vector<PackedBuffer> bufs;
    std::vector<WeightView> views;
    for (size_t i = 0; i < types.size(); ++i) ws.push_back(make_weights(types[i], n_in, n_outs[i], 40 + i));
    for (const Weights& w : ws) {
      WeightView v = w.view();
      if (packable(v)) {
        auto b = PackedBuffer::allocate(packed_size(v));
        ASSERT_TRUE(b.is_ok());
        pack(v, b->data(), nullptr);
        v.packed = b->data();
        bufs.push_back(std::move(b).value());
      }
      views.push_back(v);
    }
    for (int64_t n_tok : {1, 9}) {
      const auto x = gaussian(n_in * n_tok, 7, 1.0f);
      std::vector<std::vector<float>> separate, together;
      std::vector<MatmulTarget> targets;
      for (size_t i = 0; i < views.size(); ++i) {
        separate.emplace_back(n_tok * views[i].n_out);
        together.emplace_back(n_tok * views[i].n_out, -1.0f);
        Scratch s;
        matmul(views[i], x.data(), n_tok, separate.back().data(), &s, &pool);
      }
      for (size_t i = 0; i < views.size(); ++i) targets.push_back({&views[i], together[i].data()});
      Scratch s;
      matmul_many(targets, x.data(), n_tok, &s, &pool);
      for (size_t i = 0; i < views.size(); ++i) {
        EXPECT_EQ(separate[i], together[i])
            << gguf::type_name(types[i]) << " target " << i << " tokens " << n_tok;
      }
    }
  }
}

}  // namespace
}  // namespace sov::kernels
