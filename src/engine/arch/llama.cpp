// Llama 2 / 3.x, Mistral and other "llama" GGUFs: separate q/k/v, SwiGLU, normal RoPE,
// optional Llama-3 rope_freqs, tied or untied output.
#include "engine/arch.h"

namespace sov::engine {
namespace {

Status bind(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(bind_embeddings(b, hp, w));
  for (int l = 0; l < hp.n_layer; ++l) {
    // Some llama conversions carry q/k/v biases; bind them when present.
    SOV_RETURN_IF_ERROR(bind_attention(b, hp, l, {.bias = true}, &w->layers[l]));
    SOV_RETURN_IF_ERROR(bind_ffn(b, hp, l, false, false, &w->layers[l]));
  }
  return Status::ok();
}

SOV_REGISTER_ARCH(llama, ArchSpec{"llama", [](const gguf::File&, HParams* hp) {
                                    hp->rope_type = RopeType::kNormal;
                                    return Status::ok();
                                  },
                                  bind});

}  // namespace
}  // namespace sov::engine
