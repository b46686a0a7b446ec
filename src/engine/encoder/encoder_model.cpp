#include "engine/encoder/encoder_model.h"

#include <fmt/format.h>

#include "kernels/matmul.h"

namespace sov::engine {
namespace {

constexpr std::string_view kBert = "bert";
constexpr std::string_view kNomicBert = "nomic-bert";

Result<EncoderHParams> read_encoder_hparams(const gguf::File& f, const std::string& arch) {
  EncoderHParams hp;
  SOV_ASSIGN_OR_RETURN(hp.base, read_hparams(f, arch));
  const std::string p = arch + ".";
  // Encoders store a LayerNorm epsilon, not an RMSNorm one.
  auto eps = f.get_float(p + "attention.layer_norm_epsilon");
  hp.base.norm_eps = eps && *eps > 0.0 && *eps < 1.0 ? static_cast<float>(*eps) : 1e-12f;
  if (auto causal = f.get_bool(p + "attention.causal")) hp.causal = *causal;

  if (auto pooling = f.get_int(p + "pooling_type")) {
    SOV_ASSIGN_OR_RETURN(hp.pooling, pooling_from_gguf(*pooling));
  }  // absent: mean, what sentence-embedding models almost always use

  if (arch == kNomicBert) {
    hp.use_rope = true;
    hp.base.rope_type = RopeType::kNeox;
    hp.activation = Activation::kSilu;
  } else {
    hp.activation = Activation::kGeluTanh;
  }
  return hp;
}

// Binds a matrix and checks that matmul can run on it.
Status bind_matrix(const WeightBinder& b, const std::string& name, int64_t n_in, int64_t n_out, Matrix* out,
                   bool required = true) {
  SOV_RETURN_IF_ERROR(b.matrix(name, n_in, n_out, out, required));
  if (!out->present()) return Status::ok();
  Status s = kernels::validate(out->view);
  return s.is_ok() ? s : s.with_context(fmt::format("tensor '{}'", name));
}

Status bind_layer(const WeightBinder& b, const EncoderHParams& ehp, int l, EncoderLayer* lw) {
  const HParams& hp = ehp.base;
  const int64_t d = hp.n_embd, nq = hp.n_embd_q(), nkv = hp.n_embd_kv(), ff = hp.n_ff;
  auto name = [l](const char* suffix) { return layer_tensor(l, suffix); };
  if (b.has(name("attn_qkv.weight"))) {
    SOV_RETURN_IF_ERROR(bind_matrix(b, name("attn_qkv.weight"), d, nq + 2 * nkv, &lw->wqkv));
    SOV_RETURN_IF_ERROR(b.vector(name("attn_qkv.bias"), nq + 2 * nkv, &lw->bqkv, false));
  } else {
    SOV_RETURN_IF_ERROR(bind_matrix(b, name("attn_q.weight"), d, nq, &lw->wq));
    SOV_RETURN_IF_ERROR(bind_matrix(b, name("attn_k.weight"), d, nkv, &lw->wk));
    SOV_RETURN_IF_ERROR(bind_matrix(b, name("attn_v.weight"), d, nkv, &lw->wv));
    SOV_RETURN_IF_ERROR(b.vector(name("attn_q.bias"), nq, &lw->bq, false));
    SOV_RETURN_IF_ERROR(b.vector(name("attn_k.bias"), nkv, &lw->bk, false));
    SOV_RETURN_IF_ERROR(b.vector(name("attn_v.bias"), nkv, &lw->bv, false));
  }
  SOV_RETURN_IF_ERROR(bind_matrix(b, name("attn_output.weight"), nq, d, &lw->wo));
  SOV_RETURN_IF_ERROR(b.vector(name("attn_output.bias"), d, &lw->bo, false));
  SOV_RETURN_IF_ERROR(b.vector(name("attn_output_norm.weight"), d, &lw->attn_norm_w));
  SOV_RETURN_IF_ERROR(b.vector(name("attn_output_norm.bias"), d, &lw->attn_norm_b, false));

  SOV_RETURN_IF_ERROR(bind_matrix(b, name("ffn_up.weight"), d, ff, &lw->ffn_up));
  SOV_RETURN_IF_ERROR(b.vector(name("ffn_up.bias"), ff, &lw->b_up, false));
  // nomic-bert's FFN is gated (SwiGLU); bert's is not.
  const bool gated = ehp.activation == Activation::kSilu;
  SOV_RETURN_IF_ERROR(bind_matrix(b, name("ffn_gate.weight"), d, ff, &lw->ffn_gate, gated));
  SOV_RETURN_IF_ERROR(b.vector(name("ffn_gate.bias"), ff, &lw->b_gate, false));
  SOV_RETURN_IF_ERROR(bind_matrix(b, name("ffn_down.weight"), ff, d, &lw->ffn_down));
  SOV_RETURN_IF_ERROR(b.vector(name("ffn_down.bias"), d, &lw->b_down, false));
  SOV_RETURN_IF_ERROR(b.vector(name("layer_output_norm.weight"), d, &lw->out_norm_w));
  SOV_RETURN_IF_ERROR(b.vector(name("layer_output_norm.bias"), d, &lw->out_norm_b, false));
  return Status::ok();
}

}  // namespace

Result<Pooling> pooling_from_gguf(int64_t value) {
  switch (value) {
    case 0: return Pooling::kNone;
    case 1: return Pooling::kMean;
    case 2: return Pooling::kCls;
    case 3: return Pooling::kLast;
    case 4: return Status::unsupported("pooling type 4 (rank, a reranker head) is not supported");
    default: return Status::corrupt(fmt::format("pooling_type {} is not a pooling type", value));
  }
}

std::string_view pooling_name(Pooling p) {
  switch (p) {
    case Pooling::kNone: return "none";
    case Pooling::kMean: return "mean";
    case Pooling::kCls: return "cls";
    case Pooling::kLast: return "last";
  }
  return "unknown";
}

Result<Pooling> parse_pooling(std::string_view name) {
  for (Pooling p : {Pooling::kNone, Pooling::kMean, Pooling::kCls, Pooling::kLast}) {
    if (pooling_name(p) == name) return p;
  }
  return Status::invalid_argument(fmt::format("unknown pooling '{}' (none, mean, cls or last)", name));
}

bool EncoderModel::supports_arch(std::string_view arch) {
  return arch == kBert || arch == kNomicBert;
}

Result<std::shared_ptr<const EncoderModel>> EncoderModel::load(std::shared_ptr<const gguf::File> file) {
  const std::string arch = file->architecture();
  if (arch.empty()) return Status::corrupt("general.architecture is missing: not a model file");
  if (!supports_arch(arch)) {
    return Status::unsupported(
        fmt::format("'{}' is not an encoder architecture (supported: bert, nomic-bert)", arch));
  }
  auto model = std::shared_ptr<EncoderModel>(new EncoderModel());
  model->file_ = std::move(file);
  const gguf::File& f = *model->file_;
  SOV_ASSIGN_OR_RETURN(model->hp_, read_encoder_hparams(f, arch));
  EncoderHParams& hp = model->hp_;
  HParams& base = hp.base;

  const gguf::Tensor* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) return Status::not_found("tensor 'token_embd.weight' is missing");
  if (embd->info.ne[1] <= 0 || embd->info.ne[1] > (1 << 24)) {
    return Status::corrupt(fmt::format("token_embd.weight has shape {}", embd->info.shape_string()));
  }
  base.n_vocab = static_cast<int32_t>(embd->info.ne[1]);

  WeightBinder b(f);
  EncoderWeights& w = model->weights_;
  const int64_t d = base.n_embd;
  SOV_RETURN_IF_ERROR(bind_matrix(b, "token_embd.weight", d, base.n_vocab, &w.token_embd));
  if (const gguf::Tensor* tt = f.find_tensor("token_types.weight")) {
    if (tt->info.ne[1] <= 0 || tt->info.ne[1] > 1024) {
      return Status::corrupt(fmt::format("token_types.weight has shape {}", tt->info.shape_string()));
    }
    hp.n_token_types = static_cast<int32_t>(tt->info.ne[1]);
    SOV_RETURN_IF_ERROR(bind_matrix(b, "token_types.weight", d, hp.n_token_types, &w.token_types));
  }
  if (!hp.use_rope) {
    // Absolute positions: the table's rows bound the usable context.
    const gguf::Tensor* pos = f.find_tensor("position_embd.weight");
    if (pos == nullptr) return Status::not_found("tensor 'position_embd.weight' is missing");
    const int64_t rows = pos->info.ne[1];
    if (rows <= 0 || rows > (1 << 24)) {
      return Status::corrupt(fmt::format("position_embd.weight has shape {}", pos->info.shape_string()));
    }
    SOV_RETURN_IF_ERROR(bind_matrix(b, "position_embd.weight", d, rows, &w.position_embd));
    base.n_ctx_train = std::min<int32_t>(base.n_ctx_train, static_cast<int32_t>(rows));
    hp.has_position_embd = true;
  }
  SOV_RETURN_IF_ERROR(b.vector("token_embd_norm.weight", d, &w.embd_norm_w));
  SOV_RETURN_IF_ERROR(b.vector("token_embd_norm.bias", d, &w.embd_norm_b, false));

  w.layers.resize(static_cast<size_t>(base.n_layer));
  for (int l = 0; l < base.n_layer; ++l) SOV_RETURN_IF_ERROR(bind_layer(b, hp, l, &w.layers[l]));
  return std::shared_ptr<const EncoderModel>(std::move(model));
}

Result<std::shared_ptr<const EncoderModel>> EncoderModel::load(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return file.status();
  auto model = load(std::make_shared<const gguf::File>(std::move(file).value()));
  if (!model) return model.status().with_context(path);
  return model;
}

}  // namespace sov::engine
