// Qwen 2 / 2.5: q/k/v biases, NEOX RoPE, usually tied output.
#include "engine/arch.h"

namespace sov::engine {
namespace {

Status bind(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(bind_embeddings(b, hp, w));
  for (int l = 0; l < hp.n_layer; ++l) {
    SOV_RETURN_IF_ERROR(bind_attention(b, hp, l, {.bias = true}, &w->layers[l]));
    SOV_RETURN_IF_ERROR(bind_ffn(b, hp, l, false, false, &w->layers[l]));
  }
  return Status::ok();
}

SOV_REGISTER_ARCH(qwen2, ArchSpec{"qwen2", [](const gguf::File&, HParams* hp) {
                                    hp->rope_type = RopeType::kNeox;
                                    return Status::ok();
                                  },
                                  bind});

}  // namespace
}  // namespace sov::engine
