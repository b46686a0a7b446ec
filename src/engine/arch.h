// Architecture registry. Each file under engine/arch/ registers one architecture: how to
// complete its hyper-parameters and how to bind its weights. The forward pass (forward.h)
// is shared and driven by the hyper-parameters and by which weights are present, so adding
// an architecture never edits a central switch. Registration happens at static
// initialisation; lookups afterwards are thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/weights.h"

namespace sov::engine {

struct ArchSpec {
  std::string name;  // general.architecture
  // Sets what read_hparams cannot know (rope type, activation, softcaps, ...).
  std::function<Status(const gguf::File&, HParams*)> configure;
  std::function<Status(const WeightBinder&, const HParams&, ModelWeights*)> bind;
};

bool register_arch(ArchSpec spec);
const ArchSpec* find_arch(std::string_view name);
std::vector<std::string> arch_names();

// Shared binding steps used by the architecture files.
struct AttentionLayout {
  bool fused_qkv = false;
  bool bias = false;     // q/k/v biases (optional tensors when true)
  bool qk_norm = false;  // per-head q/k RMSNorm
  bool post_norm = false;  // post_attention_norm after the output projection
};
Status bind_embeddings(const WeightBinder& b, const HParams& hp, ModelWeights* w);
Status bind_attention(const WeightBinder& b, const HParams& hp, int layer, const AttentionLayout& layout,
                      LayerWeights* lw);
Status bind_ffn(const WeightBinder& b, const HParams& hp, int layer, bool fused_gate_up, bool post_norm,
                LayerWeights* lw);

}  // namespace sov::engine

#define SOV_REGISTER_ARCH(ident, ...) \
  static const bool sov_arch_registered_##ident = ::sov::engine::register_arch(__VA_ARGS__)
