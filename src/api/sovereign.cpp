// libsovereign's public API (include/sovereign/sovereign.h) on top of the engine, tokenizer
// and scheduler libraries.
#include "sovereign/sovereign.h"

#include <filesystem>

#include "engine/context.h"
#include "engine/model.h"
#include "scheduler/sequence.h"
#include "tokenizer/tokenizer.h"

namespace sov::api {

struct Model::Impl {
  std::shared_ptr<const engine::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  ModelInfo info;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  SOV_ASSIGN_OR_RETURN(impl->model, engine::Model::load(path));
  auto tok = tokenizer::Tokenizer::from_gguf(impl->model->file());
  if (!tok) return tok.status().with_context(path);
  impl->tokenizer = std::move(tok).value();
  const engine::HParams& hp = impl->model->hparams();
  const gguf::File& f = impl->model->file();
  ModelInfo& info = impl->info;
  info.architecture = hp.arch;
  auto name = f.get_string("general.name");
  info.name = name ? *name : std::filesystem::path(path).stem().string();
  info.n_vocab = hp.n_vocab;
  info.n_ctx_train = hp.n_ctx_train;
  info.n_embd = hp.n_embd;
  info.n_layer = hp.n_layer;
  info.n_head = hp.n_head;
  info.n_head_kv = hp.n_head_kv;
  if (auto tmpl = f.get_string("tokenizer.chat_template")) info.chat_template = *tmpl;
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelInfo& Model::info() const { return impl_->info; }

std::vector<int32_t> Model::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  return impl_->tokenizer->encode(text, add_special, parse_special);
}

std::string Model::detokenize(std::span<const int32_t> ids, bool skip_special) const {
  return impl_->tokenizer->decode(ids, skip_special);
}

bool Model::is_end_of_generation(int32_t id) const { return impl_->tokenizer->is_eog(id); }

struct Session::Impl {
  std::shared_ptr<const Model> model;
  scheduler::Sequence sequence;
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model, SessionParams params) {
  auto ctx = engine::Context::create(model->impl().model, {.n_ctx = params.n_ctx, .n_threads = params.n_threads});
  if (!ctx) return ctx.status();
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(model), scheduler::Sequence(std::move(ctx).value())});
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::decode(std::span<const int32_t> ids) {
  if (ids.empty()) return Status::invalid_argument("decode called with no tokens");
  // The evaluated tokens plus the new ones: prefill reuses everything already cached.
  std::vector<int32_t> all = impl_->sequence.cached_tokens();
  all.insert(all.end(), ids.begin(), ids.end());
  auto reused = impl_->sequence.prefill(all);
  return reused.status();
}

std::span<const float> Session::logits() const { return impl_->sequence.context().logits(); }
int32_t Session::n_past() const { return impl_->sequence.context().n_past(); }
int32_t Session::n_ctx() const { return impl_->sequence.context().n_ctx(); }
void Session::truncate(int32_t n) { impl_->sequence.truncate(n); }

Result<GenerateStats> Session::generate(std::span<const int32_t> prompt, const GenerateParams& params,
                                        const std::function<bool(std::string_view)>& on_text) {
  scheduler::GenerateParams gp;
  gp.max_tokens = params.max_tokens;
  gp.stop = params.stop;
  gp.sampler.temperature = params.sampling.temperature;
  gp.sampler.top_k = params.sampling.top_k;
  gp.sampler.top_p = params.sampling.top_p;
  gp.sampler.min_p = params.sampling.min_p;
  gp.sampler.repeat_penalty = params.sampling.repeat_penalty;
  gp.sampler.seed = params.sampling.seed < 0 ? sampling::SamplerParams::kRandomSeed
                                             : static_cast<uint64_t>(params.sampling.seed);
  SOV_RETURN_IF_ERROR(gp.sampler.validate());
  SOV_ASSIGN_OR_RETURN(scheduler::GenerateResult r,
                       impl_->sequence.run(prompt, *impl_->model->impl().tokenizer, gp, on_text));
  return GenerateStats{r.n_prompt, r.n_cached, r.n_generated, r.prompt_ms, r.generate_ms, r.done_reason};
}

}  // namespace sov::api
