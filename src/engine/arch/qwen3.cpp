// Qwen 3 (dense): per-head RMSNorm of q and k before RoPE, no biases, NEOX RoPE.
#include "engine/arch.h"

namespace sov::engine {
namespace {

Status bind(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(bind_embeddings(b, hp, w));
  for (int l = 0; l < hp.n_layer; ++l) {
    SOV_RETURN_IF_ERROR(bind_attention(b, hp, l, {.qk_norm = true}, &w->layers[l]));
    SOV_RETURN_IF_ERROR(bind_ffn(b, hp, l, false, false, &w->layers[l]));
  }
  return Status::ok();
}

SOV_REGISTER_ARCH(qwen3, ArchSpec{"qwen3", [](const gguf::File&, HParams* hp) {
                                    hp->rope_type = RopeType::kNeox;
                                    return Status::ok();
                                  },
                                  bind});

}  // namespace
}  // namespace sov::engine
