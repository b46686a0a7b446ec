// Gemma 2: embeddings scaled by sqrt(n_embd), GELU-gated FFN, RMSNorm after attention and
// after the FFN, soft-capped attention scores and logits, sliding-window attention on even
// layers, NEOX RoPE, tied output.
#include <cmath>

#include "engine/arch.h"

namespace sov::engine {
namespace {

Status configure(const gguf::File& f, HParams* hp) {
  hp->rope_type = RopeType::kNeox;
  hp->activation = Activation::kGeluTanh;
  hp->embd_scale = std::sqrt(static_cast<float>(hp->n_embd));
  // The 27B model scales queries by 1/sqrt(n_embd / n_head) instead of 1/sqrt(head_dim).
  hp->attn_scale = hp->n_layer == 46 ? 1.0f / std::sqrt(static_cast<float>(hp->n_embd / hp->n_head))
                                     : 1.0f / std::sqrt(static_cast<float>(hp->head_dim));
  if (f.find("gemma2.attn_logit_softcapping") == nullptr) hp->attn_softcap = 50.0f;
  if (f.find("gemma2.final_logit_softcapping") == nullptr) hp->final_softcap = 30.0f;
  if (hp->sliding_window == 0) hp->sliding_window = 4096;
  hp->swa_even_layers_only = true;
  return Status::ok();
}

Status bind(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(bind_embeddings(b, hp, w));
  for (int l = 0; l < hp.n_layer; ++l) {
    SOV_RETURN_IF_ERROR(bind_attention(b, hp, l, {.post_norm = true}, &w->layers[l]));
    SOV_RETURN_IF_ERROR(bind_ffn(b, hp, l, false, true, &w->layers[l]));
  }
  return Status::ok();
}

SOV_REGISTER_ARCH(gemma2, ArchSpec{"gemma2", configure, bind});

}  // namespace
}  // namespace sov::engine
