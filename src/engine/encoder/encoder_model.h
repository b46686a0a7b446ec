// A loaded BERT-family encoder (embedding model): hyper-parameters and weights bound from a
// GGUF file of architecture `bert` or `nomic-bert`.
//
//   bert        x = LN(tok[id] + type[tt] + pos[p]); per layer x = LN(x + attn(x)),
//               x = LN(x + down(gelu(up(x)))); q/k/v/o and FFN biases; no RoPE.
//   nomic-bert  x = LN(tok[id] + type[tt]); fused QKV, NEOX RoPE on q and k, no biases,
//               FFN down(silu(gate(x)) * up(x)); the same post-LayerNorm residuals.
//
// Attention is bidirectional unless `<arch>.attention.causal` says otherwise. Fused or
// separate q/k/v and every bias are accepted for both architectures (bound when present).
// EncoderModel::load validates every tensor (presence, shape, kernel support) up front.
// Immutable after load and thread-safe; it shares ownership of the gguf::File whose memory
// map holds the matrices.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/weights.h"
#include "gguf/file.h"

namespace sov::engine {

// How token states become one vector per text; the values are GGUF's `<arch>.pooling_type`.
enum class Pooling : int32_t { kNone = 0, kMean = 1, kCls = 2, kLast = 3 };

// "none", "mean", "cls", "last".
std::string_view pooling_name(Pooling p);
// Accepts the names above (case-sensitive); InvalidArgument otherwise.
Result<Pooling> parse_pooling(std::string_view name);
// The value of GGUF's `<arch>.pooling_type` (0..3; 4, rank, is unsupported).
Result<Pooling> pooling_from_gguf(int64_t value);

struct EncoderHParams {
  // n_vocab, n_ctx_train, n_embd, n_layer, n_head, head_dim, n_ff, norm_eps (LayerNorm eps)
  // and the RoPE settings (read only when use_rope).
  HParams base;
  bool use_rope = false;
  bool causal = false;
  Pooling pooling = Pooling::kMean;
  int32_t n_token_types = 0;                      // rows of token_types.weight (0: no such table)
  bool has_position_embd = false;                 // absolute position table of n_ctx_train rows
  Activation activation = Activation::kGeluTanh;  // of the FFN: plain GELU or gated SiLU
};

struct EncoderLayer {
  Matrix wq, wk, wv;                    // separate projections, or
  Matrix wqkv;                          // fused: rows Q, then K, then V
  std::vector<float> bq, bk, bv, bqkv;  // optional biases
  Matrix wo;
  std::vector<float> bo;
  std::vector<float> attn_norm_w, attn_norm_b;  // LayerNorm after the attention residual
  Matrix ffn_up, ffn_gate, ffn_down;            // ffn_gate absent: act(up(x))
  std::vector<float> b_up, b_gate, b_down;
  std::vector<float> out_norm_w, out_norm_b;  // LayerNorm after the FFN residual
};

struct EncoderWeights {
  Matrix token_embd;     // [n_vocab] rows of n_embd
  Matrix token_types;    // [n_token_types] rows, optional
  Matrix position_embd;  // [n_ctx_train] rows, optional (bert)
  std::vector<float> embd_norm_w, embd_norm_b;
  std::vector<EncoderLayer> layers;
};

class EncoderModel {
 public:
  // True for the architectures this class loads.
  static bool supports_arch(std::string_view arch);

  static Result<std::shared_ptr<const EncoderModel>> load(std::shared_ptr<const gguf::File> file);
  // Opens and loads a GGUF file; errors are prefixed with the path.
  static Result<std::shared_ptr<const EncoderModel>> load(const std::string& path);

  const EncoderHParams& hparams() const { return hp_; }
  const EncoderWeights& weights() const { return weights_; }
  const gguf::File& file() const { return *file_; }
  std::shared_ptr<const gguf::File> file_ptr() const { return file_; }
  int32_t n_embd() const { return hp_.base.n_embd; }
  // The longest sequence the model accepts (its trained context).
  int32_t n_ctx() const { return hp_.base.n_ctx_train; }

 private:
  EncoderModel() = default;
  std::shared_ptr<const gguf::File> file_;
  EncoderHParams hp_;
  EncoderWeights weights_;
};

}  // namespace sov::engine
