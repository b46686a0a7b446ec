#include "engine/hparams.h"

#include <fmt/format.h>

#include <cmath>

namespace sov::engine {
namespace {

Result<int32_t> required_int(const gguf::File& f, const std::string& key) {
  auto v = f.get_int(key);
  if (!v) return v.status();
  if (*v <= 0 || *v > (1 << 30)) return Status::corrupt(fmt::format("metadata '{}' = {} is out of range", key, *v));
  return static_cast<int32_t>(*v);
}

int32_t optional_int(const gguf::File& f, const std::string& key, int32_t fallback) {
  auto v = f.get_int(key);
  return v && *v > 0 && *v <= (1 << 30) ? static_cast<int32_t>(*v) : fallback;
}

float optional_float(const gguf::File& f, const std::string& key, float fallback) {
  auto v = f.get_float(key);
  return v && std::isfinite(*v) ? static_cast<float>(*v) : fallback;
}

}  // namespace

Result<HParams> read_hparams(const gguf::File& f, const std::string& arch) {
  HParams hp;
  hp.arch = arch;
  const std::string p = arch + ".";
  SOV_ASSIGN_OR_RETURN(hp.n_embd, required_int(f, p + "embedding_length"));
  SOV_ASSIGN_OR_RETURN(hp.n_layer, required_int(f, p + "block_count"));
  SOV_ASSIGN_OR_RETURN(hp.n_head, required_int(f, p + "attention.head_count"));
  SOV_ASSIGN_OR_RETURN(hp.n_ff, required_int(f, p + "feed_forward_length"));
  hp.n_ctx_train = optional_int(f, p + "context_length", 2048);
  hp.n_head_kv = optional_int(f, p + "attention.head_count_kv", hp.n_head);
  hp.head_dim = optional_int(f, p + "attention.key_length", hp.n_embd / hp.n_head);
  if (optional_int(f, p + "attention.value_length", hp.head_dim) != hp.head_dim) {
    return Status::unsupported("models whose value length differs from the key length are not supported");
  }
  if (hp.n_head % hp.n_head_kv != 0) {
    return Status::corrupt(fmt::format("head count {} is not a multiple of the KV head count {}", hp.n_head,
                                       hp.n_head_kv));
  }
  hp.norm_eps = optional_float(f, p + "attention.layer_norm_rms_epsilon", 1e-5f);
  hp.n_rot = optional_int(f, p + "rope.dimension_count", hp.head_dim);
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    return Status::corrupt(fmt::format("rope dimension count {} does not fit head size {}", hp.n_rot, hp.head_dim));
  }
  hp.rope_theta = optional_float(f, p + "rope.freq_base", 10000.0f);

  // RoPE scaling: "rope.scaling.type" with "rope.scaling.factor", or the older "rope.scale_linear".
  std::string scaling_type;
  if (auto t = f.get_string(p + "rope.scaling.type")) scaling_type = *t;
  float factor = optional_float(f, p + "rope.scaling.factor", 0.0f);
  if (factor == 0.0f) factor = optional_float(f, p + "rope.scale_linear", 0.0f);
  if (scaling_type == "linear" || (scaling_type.empty() && factor > 1.0f)) {
    hp.rope_scaling = RopeScaling::kLinear;
  } else if (scaling_type == "yarn") {
    hp.rope_scaling = RopeScaling::kYarn;
  } else if (!scaling_type.empty() && scaling_type != "none") {
    return Status::unsupported(fmt::format("rope scaling type '{}' is not supported", scaling_type));
  }
  if (hp.rope_scaling != RopeScaling::kNone) hp.rope_scale = factor > 0.0f ? factor : 1.0f;
  hp.rope_orig_ctx = optional_int(f, p + "rope.scaling.original_context_length", hp.n_ctx_train);
  hp.yarn_beta_fast = optional_float(f, p + "rope.scaling.yarn_beta_fast", 32.0f);
  hp.yarn_beta_slow = optional_float(f, p + "rope.scaling.yarn_beta_slow", 1.0f);
  hp.yarn_attn_factor = optional_float(f, p + "rope.scaling.attn_factor", 1.0f);

  hp.attn_softcap = optional_float(f, p + "attn_logit_softcapping", 0.0f);
  hp.final_softcap = optional_float(f, p + "final_logit_softcapping", 0.0f);
  hp.sliding_window = optional_int(f, p + "attention.sliding_window", 0);
  return hp;
}

}  // namespace sov::engine
