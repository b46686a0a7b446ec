#include "engine/arch.h"

#include <algorithm>

namespace sov::engine {
namespace {
std::vector<ArchSpec>& registry() {
  static std::vector<ArchSpec> specs;
  return specs;
}
}  // namespace

bool register_arch(ArchSpec spec) {
  registry().push_back(std::move(spec));
  return true;
}

const ArchSpec* find_arch(std::string_view name) {
  for (const auto& s : registry()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> arch_names() {
  std::vector<std::string> names;
  for (const auto& s : registry()) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  return names;
}

Status bind_embeddings(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  SOV_RETURN_IF_ERROR(b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab, &w->token_embd));
  SOV_RETURN_IF_ERROR(b.vector("output_norm.weight", hp.n_embd, &w->output_norm));
  SOV_RETURN_IF_ERROR(b.matrix("output.weight", hp.n_embd, hp.n_vocab, &w->output, /*required=*/false));
  if (!w->output.present()) w->output = w->token_embd;  // tied embeddings
  SOV_RETURN_IF_ERROR(b.vector("rope_freqs.weight", hp.n_rot / 2, &w->rope_freqs, /*required=*/false));
  return Status::ok();
}

Status bind_attention(const WeightBinder& b, const HParams& hp, int l, const AttentionLayout& layout,
                      LayerWeights* lw) {
  const int64_t d = hp.n_embd, nq = hp.n_embd_q(), nkv = hp.n_embd_kv();
  SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_norm.weight"), d, &lw->attn_norm));
  if (layout.fused_qkv) {
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "attn_qkv.weight"), d, nq + 2 * nkv, &lw->wqkv));
  } else {
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "attn_q.weight"), d, nq, &lw->wq));
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "attn_k.weight"), d, nkv, &lw->wk));
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "attn_v.weight"), d, nkv, &lw->wv));
  }
  if (layout.bias) {
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_q.bias"), nq, &lw->bq, false));
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_k.bias"), nkv, &lw->bk, false));
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_v.bias"), nkv, &lw->bv, false));
  }
  if (layout.qk_norm) {
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_q_norm.weight"), hp.head_dim, &lw->q_norm));
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "attn_k_norm.weight"), hp.head_dim, &lw->k_norm));
  }
  SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "attn_output.weight"), nq, d, &lw->wo));
  if (layout.post_norm) {
    SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "post_attention_norm.weight"), d, &lw->post_attn_norm));
  }
  return Status::ok();
}

Status bind_ffn(const WeightBinder& b, const HParams& hp, int l, bool fused_gate_up, bool post_norm,
                LayerWeights* lw) {
  const int64_t d = hp.n_embd, ff = hp.n_ff;
  SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "ffn_norm.weight"), d, &lw->ffn_norm));
  if (fused_gate_up) {
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "ffn_up.weight"), d, 2 * ff, &lw->ffn_up));
  } else {
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "ffn_gate.weight"), d, ff, &lw->ffn_gate));
    SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "ffn_up.weight"), d, ff, &lw->ffn_up));
  }
  SOV_RETURN_IF_ERROR(b.matrix(layer_tensor(l, "ffn_down.weight"), ff, d, &lw->ffn_down));
  if (post_norm) SOV_RETURN_IF_ERROR(b.vector(layer_tensor(l, "post_ffw_norm.weight"), d, &lw->post_ffn_norm));
  return Status::ok();
}

}  // namespace sov::engine
