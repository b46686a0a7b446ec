#include "engine/model.h"

#include <fmt/format.h>

#include "engine/arch.h"

namespace sov::engine {

Result<std::shared_ptr<const Model>> Model::load(std::shared_ptr<const gguf::File> file) {
  const std::string arch = file->architecture();
  if (arch.empty()) return Status::corrupt("general.architecture is missing: not a model file");
  const ArchSpec* spec = find_arch(arch);
  if (spec == nullptr) {
    std::string known;
    for (const auto& n : arch_names()) known += (known.empty() ? "" : ", ") + n;
    return Status::unsupported(fmt::format("unsupported architecture '{}' (supported: {})", arch, known));
  }
  auto model = std::shared_ptr<Model>(new Model());
  model->file_ = std::move(file);
  SOV_ASSIGN_OR_RETURN(model->hparams_, read_hparams(*model->file_, arch));
  HParams& hp = model->hparams_;
  const gguf::Tensor* embd = model->file_->find_tensor("token_embd.weight");
  if (embd == nullptr) return Status::not_found("tensor 'token_embd.weight' is missing");
  if (embd->info.ne[1] <= 0 || embd->info.ne[1] > (1 << 24)) {
    return Status::corrupt(fmt::format("token_embd.weight has shape {}", embd->info.shape_string()));
  }
  hp.n_vocab = static_cast<int32_t>(embd->info.ne[1]);
  SOV_RETURN_IF_ERROR(spec->configure(*model->file_, &hp));
  model->weights_.layers.resize(static_cast<size_t>(hp.n_layer));
  WeightBinder binder(*model->file_);
  SOV_RETURN_IF_ERROR(spec->bind(binder, hp, &model->weights_));
  return std::shared_ptr<const Model>(std::move(model));
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return file.status();
  auto model = load(std::make_shared<const gguf::File>(std::move(file).value()));
  if (!model) return model.status().with_context(path);
  return model;
}

}  // namespace sov::engine
