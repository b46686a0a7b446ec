// Phi-3 / Phi-3.5: fused QKV, fused gate/up (gate first), NEOX RoPE, sliding-window
// attention on every layer when the model sets a window.
#include "engine/arch.h"

namespace sov::engine {
namespace {

Status bind(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(bind_embeddings(b, hp, w));
  for (int l = 0; l < hp.n_layer; ++l) {
    SOV_RETURN_IF_ERROR(bind_attention(b, hp, l, {.fused_qkv = true}, &w->layers[l]));
    SOV_RETURN_IF_ERROR(bind_ffn(b, hp, l, true, false, &w->layers[l]));
  }
  return Status::ok();
}

SOV_REGISTER_ARCH(phi3, ArchSpec{"phi3", [](const gguf::File& f, HParams* hp) {
                                   hp->rope_type = RopeType::kNeox;
                                   if (f.find_tensor("rope_factors_long.weight") != nullptr) {
                                     return Status::unsupported(
                                         "phi3 LongRoPE (rope_factors_long) models are not supported yet");
                                   }
                                   return Status::ok();
                                 },
                                 bind});

}  // namespace
}  // namespace sov::engine
