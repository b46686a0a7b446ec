#include "engine/encoder/synthetic.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <random>

#include "gguf/writer.h"
#include "quant/quant.h"

namespace sov::engine {
namespace {

class Builder {
 public:
  Builder(const SyntheticEncoderSpec& spec) : spec_(spec), rng_(spec.seed) {}

  // A tensor of `rows` rows of `cols` values drawn from N(mean, std²), stored as `type`.
  Status add(const std::string& name, gguf::TensorType type, int64_t cols, int64_t rows, double mean,
             double std) {
    std::normal_distribution<float> dist(static_cast<float>(mean), static_cast<float>(std));
    std::vector<float> row(static_cast<size_t>(cols));
    const auto rb = gguf::row_bytes(type, cols);
    if (!rb)
      return Status::invalid_argument(
          fmt::format("{}: rows of {} do not fit type {}", name, cols, gguf::type_name(type)));
    std::vector<uint8_t> data(*rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = dist(rng_);
      SOV_RETURN_IF_ERROR(quant::quantize_row(type, row.data(), data.data() + *rb * r, cols));
    }
    std::vector<int64_t> shape = {cols};
    if (rows > 1) shape.push_back(rows);
    return writer_.add_tensor(name, type, shape, data);
  }
  Status matrix(const std::string& name, int64_t n_in, int64_t n_out) {
    return add(name, spec_.matrix_type, n_in, n_out, 0.0, 1.0 / std::sqrt(static_cast<double>(n_in)));
  }
  Status norm(const std::string& prefix, int64_t n) {
    SOV_RETURN_IF_ERROR(add(prefix + ".weight", gguf::TensorType::kF32, n, 1, 1.0, 0.1));
    return add(prefix + ".bias", gguf::TensorType::kF32, n, 1, 0.0, 0.1);
  }
  Status bias(const std::string& name, int64_t n) {
    return add(name, gguf::TensorType::kF32, n, 1, 0.0, 0.1);
  }

  gguf::Writer& writer() { return writer_; }

 private:
  const SyntheticEncoderSpec& spec_;
  std::mt19937_64 rng_;
  gguf::Writer writer_;
};

}  // namespace

Result<std::vector<uint8_t>> make_synthetic_encoder(const SyntheticEncoderSpec& s) {
  const bool nomic = s.arch == "nomic-bert";
  if (!nomic && s.arch != "bert")
    return Status::invalid_argument(fmt::format("unknown encoder arch '{}'", s.arch));
  const int32_t n_head_kv = s.n_head_kv > 0 ? s.n_head_kv : s.n_head;
  if (s.n_head <= 0 || s.n_embd % s.n_head != 0 || s.n_head % n_head_kv != 0) {
    return Status::invalid_argument("head counts do not divide the embedding width");
  }
  const int64_t d = s.n_embd, hd = s.n_embd / s.n_head, nkv = hd * n_head_kv, ff = s.n_ff;

  Builder b(s);
  gguf::Writer& w = b.writer();
  const std::string p = s.arch + ".";
  w.set("general.architecture", s.arch);
  w.set("general.name", "synthetic-" + s.arch);
  w.set(p + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set(p + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set(p + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set(p + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set(p + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set(p + "attention.head_count_kv", static_cast<uint32_t>(n_head_kv));
  w.set(p + "attention.layer_norm_epsilon", 1e-12f);
  w.set(p + "attention.causal", s.causal);
  w.set(p + "pooling_type", static_cast<uint32_t>(s.pooling));
  if (nomic) w.set(p + "rope.freq_base", 1000.0f);
  if (s.vocab_from != nullptr) {
    for (const gguf::KeyValue& kv : s.vocab_from->metadata()) {
      if (kv.key.rfind("tokenizer.", 0) == 0) w.set(kv.key, kv.value);
    }
  }

  SOV_RETURN_IF_ERROR(b.add("token_embd.weight", gguf::TensorType::kF32, d, s.n_vocab, 0.0, 1.0));
  SOV_RETURN_IF_ERROR(b.add("token_types.weight", gguf::TensorType::kF32, d, 2, 0.0, 0.5));
  if (!nomic)
    SOV_RETURN_IF_ERROR(b.add("position_embd.weight", gguf::TensorType::kF32, d, s.n_ctx, 0.0, 0.5));
  SOV_RETURN_IF_ERROR(b.norm("token_embd_norm", d));
  for (int l = 0; l < s.n_layer; ++l) {
    auto t = [l](const char* suffix) { return layer_tensor(l, suffix); };
    if (nomic) {
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_qkv.weight"), d, d + 2 * nkv));
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_output.weight"), d, d));
    } else {
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_q.weight"), d, d));
      SOV_RETURN_IF_ERROR(b.bias(t("attn_q.bias"), d));
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_k.weight"), d, nkv));
      SOV_RETURN_IF_ERROR(b.bias(t("attn_k.bias"), nkv));
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_v.weight"), d, nkv));
      SOV_RETURN_IF_ERROR(b.bias(t("attn_v.bias"), nkv));
      SOV_RETURN_IF_ERROR(b.matrix(t("attn_output.weight"), d, d));
      SOV_RETURN_IF_ERROR(b.bias(t("attn_output.bias"), d));
    }
    SOV_RETURN_IF_ERROR(b.norm(t("attn_output_norm"), d));
    SOV_RETURN_IF_ERROR(b.matrix(t("ffn_up.weight"), d, ff));
    if (nomic) {
      SOV_RETURN_IF_ERROR(b.matrix(t("ffn_gate.weight"), d, ff));
    } else {
      SOV_RETURN_IF_ERROR(b.bias(t("ffn_up.bias"), ff));
    }
    SOV_RETURN_IF_ERROR(b.matrix(t("ffn_down.weight"), ff, d));
    if (!nomic) SOV_RETURN_IF_ERROR(b.bias(t("ffn_down.bias"), d));
    SOV_RETURN_IF_ERROR(b.norm(t("layer_output_norm"), d));
  }
  return w.to_bytes();
}

}  // namespace sov::engine
