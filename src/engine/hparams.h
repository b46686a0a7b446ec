// Hyper-parameters of a decoder model, read from GGUF metadata under the architecture's
// prefix ("llama.block_count", "qwen2.rope.freq_base", ...). Plain value, thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/file.h"

namespace sov::engine {

enum class RopeType { kNormal, kNeox };  // pairs (2i, 2i+1) or (i, i + n_rot/2)
enum class RopeScaling { kNone, kLinear, kYarn };
enum class Activation { kSilu, kGeluTanh };

struct HParams {
  std::string arch;
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // key/value length per head
  int32_t n_ff = 0;
  float norm_eps = 1e-5f;

  // RoPE
  RopeType rope_type = RopeType::kNormal;
  int32_t n_rot = 0;  // dimensions rotated per head (<= head_dim)
  float rope_theta = 10000.0f;
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_scale = 1.0f;  // position divisor for linear / YaRN
  int32_t rope_orig_ctx = 0;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  float yarn_attn_factor = 1.0f;  // from metadata when present

  // Architecture features
  float attn_scale = 0.0f;  // multiplier for q·k; 0 = 1/sqrt(head_dim)
  float attn_softcap = 0.0f;   // 0 = off
  float final_softcap = 0.0f;  // 0 = off
  int32_t sliding_window = 0;  // 0 = off
  bool swa_even_layers_only = false;  // gemma2: sliding window on layers 0, 2, 4, ...
  float embd_scale = 1.0f;
  Activation activation = Activation::kSilu;

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
  bool layer_uses_swa(int layer) const {
    return sliding_window > 0 && (!swa_even_layers_only || layer % 2 == 0);
  }
};

// Reads the common keys under `arch.`; architecture files adjust the rest.
Result<HParams> read_hparams(const gguf::File& file, const std::string& arch);

}  // namespace sov::engine
