// Encoder features the shared test data does not cover, on synthetic models: grouped KV
// heads (checked against the same model with its KV heads duplicated), causal attention
// (a prefix's states do not depend on later tokens), quantized matrices, and the load-time
// checks on malformed files.
#include "engine/encoder/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/encoder/encoder.h"
#include "gguf/writer.h"

namespace sov::engine {
namespace {

struct Loaded {
  std::vector<uint8_t> bytes;  // must outlive the model
  std::shared_ptr<const EncoderModel> model;
};

std::unique_ptr<Loaded> load_bytes(std::vector<uint8_t> bytes) {
  auto out = std::make_unique<Loaded>();
  out->bytes = std::move(bytes);
  auto file = gguf::File::parse(out->bytes);
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  if (!file.is_ok()) return nullptr;
  auto model = EncoderModel::load(std::make_shared<const gguf::File>(std::move(file).value()));
  EXPECT_TRUE(model.is_ok()) << model.status().message();
  if (!model.is_ok()) return nullptr;
  out->model = *model;
  return out;
}

std::unique_ptr<Loaded> synth(const SyntheticEncoderSpec& spec) {
  auto bytes = make_synthetic_encoder(spec);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? load_bytes(std::move(bytes).value()) : nullptr;
}

std::vector<float> states(const EncoderModel& model, const std::vector<std::vector<int32_t>>& seqs,
                          ThreadPool* pool) {
  Encoder enc(std::shared_ptr<const EncoderModel>(&model, [](const EncoderModel*) {}), pool);
  std::vector<EncoderSequence> batch;
  for (const auto& s : seqs) batch.push_back({s, {}});
  EXPECT_TRUE(enc.forward(batch).is_ok());
  std::vector<float> out;  // the sequences' rows, without padding
  for (size_t i = 0; i < seqs.size(); ++i) {
    out.insert(out.end(), enc.state(enc.seq_start(i)),
               enc.state(enc.seq_start(i)) + enc.seq_len(i) * model.n_embd());
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double{a[i]} - b[i]));
  return m;
}

const std::vector<std::vector<int32_t>> kSeqs = {
    {1, 5, 9, 33, 2}, {1, 70, 71, 72, 73, 74, 75, 76, 77, 2}, {1, 2}};

// Rewrites a GQA model file with every KV head duplicated for the query heads that read it
// (an equivalent multi-head model).
std::vector<uint8_t> expand_kv_heads(const gguf::File& f, int n_head, int n_head_kv, int head_dim) {
  gguf::Writer w;
  for (const gguf::KeyValue& kv : f.metadata()) w.set(kv.key, kv.value);
  const std::string arch = f.architecture();
  w.set(arch + ".attention.head_count_kv", static_cast<uint32_t>(n_head));
  const int group = n_head / n_head_kv;
  for (const gguf::Tensor& t : f.tensors()) {
    const std::string& name = t.info.name;
    const bool is_kv = name.find("attn_k.") != std::string::npos || name.find("attn_v.") != std::string::npos;
    std::vector<int64_t> shape(t.info.ne, t.info.ne + t.info.n_dims);
    if (!is_kv) {
      EXPECT_TRUE(w.add_tensor(name, t.info.type, shape, {t.data, t.info.n_bytes}).is_ok());
      continue;
    }
    // F32 only: a bias is one "row" of head_dim-sized slices; a weight has n_kv*head_dim rows.
    const bool bias = t.info.n_dims == 1;
    const size_t slice = bias ? head_dim : static_cast<size_t>(head_dim) * t.info.ne[0];
    std::vector<float> out;
    const float* src = reinterpret_cast<const float*>(t.data);
    for (int h = 0; h < n_head; ++h)
      out.insert(out.end(), src + (h / group) * slice, src + (h / group + 1) * slice);
    if (bias) {
      shape = {static_cast<int64_t>(n_head) * head_dim};
    } else {
      shape[1] = static_cast<int64_t>(n_head) * head_dim;
    }
    EXPECT_TRUE(w.add_tensor(name, t.info.type, shape,
                             {reinterpret_cast<const uint8_t*>(out.data()), out.size() * sizeof(float)})
                    .is_ok());
  }
  return w.to_bytes();
}

TEST(SyntheticEncoder, GroupedKvHeadsEqualDuplicatedHeads) {
  SyntheticEncoderSpec spec{.n_vocab = 100,
                            .n_embd = 64,
                            .n_layer = 2,
                            .n_head = 4,
                            .n_head_kv = 2,
                            .n_ff = 96,
                            .n_ctx = 32,
                            .seed = 7};
  auto gqa = synth(spec);
  ASSERT_NE(gqa, nullptr);
  auto file = gguf::File::parse(gqa->bytes);
  ASSERT_TRUE(file.is_ok());
  auto mha = load_bytes(expand_kv_heads(*file, 4, 2, 16));
  ASSERT_NE(mha, nullptr);
  EXPECT_EQ(mha->model->hparams().base.n_head_kv, 4);
  ThreadPool pool(2);
  const auto a = states(*gqa->model, kSeqs, &pool);
  const auto b = states(*mha->model, kSeqs, &pool);
  EXPECT_LE(max_abs_diff(a, b), 1e-5);
  // A model with different KV weights gives different states (the comparison can fail).
  spec.seed = 8;
  auto other = synth(spec);
  ASSERT_NE(other, nullptr);
  EXPECT_GT(max_abs_diff(a, states(*other->model, kSeqs, &pool)), 1e-2);
}

TEST(SyntheticEncoder, CausalPrefixIgnoresLaterTokens) {
  for (const char* arch : {"bert", "nomic-bert"}) {
    for (bool causal : {true, false}) {
      auto m = synth({.arch = arch,
                      .n_vocab = 100,
                      .n_embd = 64,
                      .n_head = 2,
                      .n_ff = 128,
                      .n_ctx = 200,
                      .causal = causal,
                      .seed = 3});
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(m->model->hparams().causal, causal);
      // A 150-token sequence spans several query blocks.
      std::vector<int32_t> longer;
      for (int i = 0; i < 150; ++i) longer.push_back((i * 37) % 100);
      const std::vector<int32_t> prefix(longer.begin(), longer.begin() + 100);
      ThreadPool pool(2);
      const auto full = states(*m->model, {longer}, &pool);
      const auto pre = states(*m->model, {prefix}, &pool);
      const std::vector<float> full_prefix(full.begin(), full.begin() + static_cast<int64_t>(pre.size()));
      if (causal) {
        EXPECT_LE(max_abs_diff(full_prefix, pre), 1e-5) << arch;
      } else {
        EXPECT_GT(max_abs_diff(full_prefix, pre), 1e-3) << arch;
      }
    }
  }
}

TEST(SyntheticEncoder, QuantizedMatricesStayClose) {
  for (const char* arch : {"bert", "nomic-bert"}) {
    SyntheticEncoderSpec spec{
        .arch = arch, .n_vocab = 100, .n_embd = 64, .n_head = 2, .n_ff = 128, .seed = 11};
    auto f32 = synth(spec);
    spec.matrix_type = gguf::TensorType::kQ8_0;
    auto q8 = synth(spec);
    spec.matrix_type = gguf::TensorType::kF16;
    auto f16 = synth(spec);
    ASSERT_TRUE(f32 && q8 && f16);
    const auto a = states(*f32->model, kSeqs, nullptr);
    const auto b = states(*q8->model, kSeqs, nullptr);
    const auto c = states(*f16->model, kSeqs, nullptr);
    // Post-LayerNorm states have values of order 1.
    EXPECT_LE(max_abs_diff(a, b), 0.15) << arch;
    EXPECT_LE(max_abs_diff(a, c), 0.02) << arch;
    EXPECT_GT(max_abs_diff(a, b), 0.0) << arch;
  }
}

// Each sequence's states are the same bits alone or in any batch, whatever the weight type
// (the float GEMM and the kernels' quantized dot products both keep tokens independent).
TEST(SyntheticEncoder, BatchIsBitIdenticalForEveryWeightType) {
  for (gguf::TensorType type :
       {gguf::TensorType::kF32, gguf::TensorType::kF16, gguf::TensorType::kQ8_0, gguf::TensorType::kQ4_K}) {
    auto m = synth({.arch = "nomic-bert",
                    .n_vocab = 100,
                    .n_embd = 256,
                    .n_head = 4,
                    .n_ff = 512,
                    .matrix_type = type,
                    .seed = 12});
    ASSERT_NE(m, nullptr);
    ThreadPool pool(2);
    const auto together = states(*m->model, kSeqs, &pool);
    std::vector<float> apart;
    for (const auto& seq : kSeqs) {
      const auto one = states(*m->model, {seq}, nullptr);
      apart.insert(apart.end(), one.begin(), one.end());
    }
    EXPECT_EQ(together, apart) << gguf::type_name(type);
  }
}

TEST(SyntheticEncoder, RefusesMalformedFiles) {
  auto bytes = make_synthetic_encoder({.n_vocab = 100, .n_embd = 64, .n_head = 2, .n_ff = 128});
  ASSERT_TRUE(bytes.is_ok());
  auto file = gguf::File::parse(*bytes);
  ASSERT_TRUE(file.is_ok());
  // Drop one tensor, or break a metadata value, and reload.
  auto rewrite = [&](const std::string& skip_tensor, const std::string& key, gguf::Value value) {
    gguf::Writer w;
    for (const gguf::KeyValue& kv : file->metadata()) w.set(kv.key, kv.key == key ? value : kv.value);
    for (const gguf::Tensor& t : file->tensors()) {
      if (t.info.name == skip_tensor) continue;
      std::vector<int64_t> shape(t.info.ne, t.info.ne + t.info.n_dims);
      EXPECT_TRUE(w.add_tensor(t.info.name, t.info.type, shape, {t.data, t.info.n_bytes}).is_ok());
    }
    auto out = std::make_unique<std::vector<uint8_t>>(w.to_bytes());
    auto f = gguf::File::parse(*out);
    EXPECT_TRUE(f.is_ok());
    auto m = EncoderModel::load(std::make_shared<const gguf::File>(std::move(f).value()));
    return m.is_ok() ? Status::ok() : m.status();
  };
  EXPECT_TRUE(rewrite("", "", 0).is_ok());
  Status missing = rewrite("blk.1.ffn_down.weight", "", 0);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("blk.1.ffn_down.weight"), std::string::npos) << missing.message();
  EXPECT_EQ(rewrite("position_embd.weight", "", 0).code(), ErrorCode::kNotFound);
  EXPECT_EQ(rewrite("", "bert.pooling_type", uint32_t{4}).code(), ErrorCode::kUnsupported);
  EXPECT_EQ(rewrite("", "bert.pooling_type", uint32_t{9}).code(), ErrorCode::kCorrupt);
  EXPECT_EQ(rewrite("", "bert.embedding_length", uint32_t{96}).code(), ErrorCode::kCorrupt);
  EXPECT_FALSE(rewrite("", "bert.block_count", uint32_t{0}).is_ok());
}

TEST(SyntheticEncoder, ForwardRefusesBadBatches) {
  auto m = synth({.n_vocab = 100, .n_embd = 64, .n_head = 2, .n_ff = 128, .n_ctx = 8});
  ASSERT_NE(m, nullptr);
  Encoder enc(m->model, nullptr);
  const std::vector<int32_t> ok = {1, 2, 3}, too_long = {1, 2, 3, 4, 5, 6, 7, 8, 9}, bad_id = {1, 100};
  const std::vector<int32_t> types_ok = {0, 1, 0}, types_bad = {0, 2, 0};
  std::vector<EncoderSequence> batch = {{ok, {}}};
  EXPECT_TRUE(enc.forward(batch).is_ok());
  EXPECT_EQ(enc.forward({}).code(), ErrorCode::kInvalidArgument);
  batch = {{ok, {}}, {too_long, {}}};
  EXPECT_EQ(enc.forward(batch).code(), ErrorCode::kOutOfRange);
  batch = {{bad_id, {}}};
  EXPECT_EQ(enc.forward(batch).code(), ErrorCode::kInvalidArgument);
  batch = {{ok, types_bad}};
  EXPECT_EQ(enc.forward(batch).code(), ErrorCode::kInvalidArgument);
  batch = {{ok, bad_id}};
  EXPECT_EQ(enc.forward(batch).code(), ErrorCode::kInvalidArgument);
  // Token types change the result.
  batch = {{ok, {}}};
  ASSERT_TRUE(enc.forward(batch).is_ok());
  const std::vector<float> type0(enc.state(0), enc.state(0) + 3 * 64);
  batch = {{ok, types_ok}};
  ASSERT_TRUE(enc.forward(batch).is_ok());
  const std::vector<float> mixed(enc.state(0), enc.state(0) + 3 * 64);
  EXPECT_GT(max_abs_diff(type0, mixed), 1e-3);
}

}  // namespace
}  // namespace sov::engine
