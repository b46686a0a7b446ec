// Writes a synthetic Llama model with random weights in F16, shaped like a real one, for
// speed measurements (bench/compare quantizes it further with `sov quantize`). The
// tokenizer (metadata only) is copied from a vocab GGUF such as
// ../shared/testdata/tokenizer/ggml-vocab-llama-spm.gguf.
//
//   make_synth_model --shape 1b|150m --vocab VOCAB.gguf --out OUT.gguf [--seed N]
//
// Shapes (tied embeddings, rope theta 500000, head_dim 64):
//   1b    Llama-3.2-1B: n_embd 2048, 16 layers, 32 heads, 8 KV heads, n_ff 8192
//   150m  n_embd 768, 12 layers, 12 heads, 4 KV heads, n_ff 2048
// Matrices are N(0, 0.02²)-like (Irwin-Hall of four uniforms), norms 1 + small noise.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gguf/file.h"
#include "gguf/writer.h"
#include "quant/fp16.h"

namespace {

using sov::gguf::TensorType;

struct Shape {
  const char* name;
  int64_t n_embd, n_layer, n_head, n_head_kv, n_ff;
};

constexpr Shape kShapes[] = {
    {"1b", 2048, 16, 32, 8, 8192},
    {"150m", 768, 12, 12, 4, 2048},
};

// xoshiro256** seeded by splitmix64.
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (auto& x : s) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      x = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  // Approximately N(0, 1): the sum of four 16-bit uniforms, centred and scaled.
  float normal() {
    const uint64_t r = next();
    const float sum =
        static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    constexpr float kMean = 4 * 32767.5f, kStd = 65536.0f / 1.7320508f;  // sqrt(4 / 12) * 65536
    return (sum - kMean) / kStd;
  }
};

struct Model {
  sov::gguf::Writer writer;
  std::vector<std::vector<uint8_t>> buffers;  // tensor bytes, kept alive for add_tensor_view
  Rng rng;

  explicit Model(uint64_t seed) : rng(seed) {}

  bool matrix(const std::string& name, int64_t n_in, int64_t n_out, float std) {
    std::vector<uint8_t>& b = buffers.emplace_back(static_cast<size_t>(n_in * n_out) * 2);
    auto* h = reinterpret_cast<uint16_t*>(b.data());
    for (int64_t i = 0; i < n_in * n_out; ++i) h[i] = sov::quant::fp32_to_fp16(std * rng.normal());
    return check(writer.add_tensor_view(name, TensorType::kF16, {n_in, n_out}, b));
  }
  bool norm(const std::string& name, int64_t n) {
    std::vector<uint8_t>& b = buffers.emplace_back(static_cast<size_t>(n) * 4);
    auto* f = reinterpret_cast<float*>(b.data());
    for (int64_t i = 0; i < n; ++i) f[i] = 1.0f + 0.05f * rng.normal();
    return check(writer.add_tensor_view(name, TensorType::kF32, {n}, b));
  }
  static bool check(const sov::Status& s) {
    if (!s.is_ok()) std::fprintf(stderr, "error: %s\n", s.to_string().c_str());
    return s.is_ok();
  }
};

int usage() {
  std::fprintf(stderr,
               "usage: make_synth_model --shape 1b|150m --vocab VOCAB.gguf --out OUT.gguf [--seed N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape_name, vocab_path, out_path;
  uint64_t seed = 42;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--shape")
      shape_name = argv[i + 1];
    else if (a == "--vocab")
      vocab_path = argv[i + 1];
    else if (a == "--out")
      out_path = argv[i + 1];
    else if (a == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else
      return usage();
  }
  const Shape* shape = nullptr;
  for (const Shape& s : kShapes) {
    if (shape_name == s.name) shape = &s;
  }
  if (shape == nullptr || vocab_path.empty() || out_path.empty()) return usage();

  auto vocab = sov::gguf::File::open(vocab_path);
  if (!vocab) {
    std::fprintf(stderr, "error: %s\n", vocab.status().to_string().c_str());
    return 1;
  }
  const sov::gguf::Array* tokens = nullptr;
  if (auto a = vocab->get_array("tokenizer.ggml.tokens")) tokens = *a;
  if (tokens == nullptr) {
    std::fprintf(stderr, "error: %s has no tokenizer.ggml.tokens\n", vocab_path.c_str());
    return 1;
  }
  const int64_t n_vocab = static_cast<int64_t>(tokens->items.size());
  const int64_t head_dim = shape->n_embd / shape->n_head;

  Model m(seed);
  sov::gguf::Writer& w = m.writer;
  w.set("general.architecture", "llama");
  w.set("general.name", std::string("sovereign-synth-") + shape->name);
  w.set("llama.context_length", uint32_t{8192});
  w.set("llama.embedding_length", static_cast<uint32_t>(shape->n_embd));
  w.set("llama.block_count", static_cast<uint32_t>(shape->n_layer));
  w.set("llama.feed_forward_length", static_cast<uint32_t>(shape->n_ff));
  w.set("llama.attention.head_count", static_cast<uint32_t>(shape->n_head));
  w.set("llama.attention.head_count_kv", static_cast<uint32_t>(shape->n_head_kv));
  w.set("llama.rope.dimension_count", static_cast<uint32_t>(head_dim));
  w.set("llama.rope.freq_base", 500000.0f);
  w.set("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set("llama.vocab_size", static_cast<uint32_t>(n_vocab));
  w.set("general.file_type", uint32_t{1});  // MOSTLY_F16
  for (const auto& kv : vocab->metadata()) {
    if (kv.key.rfind("tokenizer.", 0) == 0) w.set(kv.key, kv.value);
  }

  const int64_t d = shape->n_embd, kv = shape->n_head_kv * head_dim, ff = shape->n_ff;
  bool ok = m.matrix("token_embd.weight", d, n_vocab, 0.02f) && m.norm("output_norm.weight", d);
  for (int64_t l = 0; ok && l < shape->n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    ok = m.norm(p + "attn_norm.weight", d) && m.matrix(p + "attn_q.weight", d, d, 0.02f) &&
         m.matrix(p + "attn_k.weight", d, kv, 0.02f) && m.matrix(p + "attn_v.weight", d, kv, 0.02f) &&
         m.matrix(p + "attn_output.weight", d, d, 0.02f) && m.norm(p + "ffn_norm.weight", d) &&
         m.matrix(p + "ffn_gate.weight", d, ff, 0.02f) && m.matrix(p + "ffn_up.weight", d, ff, 0.02f) &&
         m.matrix(p + "ffn_down.weight", ff, d, 0.02f);
  }
  if (!ok) return 1;
  if (!Model::check(w.write(out_path))) return 1;
  std::printf("wrote %s (%s shape, %lld-token vocab)\n", out_path.c_str(), shape->name,
              static_cast<long long>(n_vocab));
  return 0;
}
