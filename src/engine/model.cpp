#include "engine/model.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "base/log.h"
#include "base/thread_pool.h"
#include "engine/arch.h"

namespace sov::engine {

Result<std::shared_ptr<Model>> Model::load_impl(std::shared_ptr<const gguf::File> file, bool file_backed) {
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
  SOV_RETURN_IF_ERROR(model->pack_weights(file_backed));
  return model;
}

Result<std::shared_ptr<const Model>> Model::load(std::shared_ptr<const gguf::File> file) {
  auto model = load_impl(std::move(file), /*file_backed=*/false);
  if (!model) return model.status();
  return std::shared_ptr<const Model>(std::move(model).value());
}

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return file.status();
  // The weights are a file mapping here, so their pages can be dropped and faulted back.
  auto model = load_impl(std::make_shared<const gguf::File>(std::move(file).value()), /*file_backed=*/true);
  if (!model) return model.status().with_context(path);
  return std::shared_ptr<const Model>(std::move(model).value());
}

std::vector<Matrix*> Model::matrices() {
  std::vector<Matrix*> out;
  // The output projection (token_embd itself when tied: lookups keep the original rows).
  if (weights_.output.present()) out.push_back(&weights_.output);
  for (LayerWeights& l : weights_.layers) {
    for (Matrix* m : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) {
      if (m->present()) out.push_back(m);
    }
  }
  return out;
}

namespace {

// The page-aligned part of a matrix's first n_out / 16 * 16 rows (what the packed copy covers).
std::pair<uintptr_t, size_t> packed_source_pages(const kernels::WeightView& v) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(v.data);
  const uintptr_t end =
      begin + static_cast<uintptr_t>(v.n_out / kernels::kPackRows * kernels::kPackRows) * v.row_bytes;
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  return {first, last > first ? last - first : 0};
}

}  // namespace

Status Model::pack_weights(bool release_originals) {
  std::vector<Matrix*> todo;
  for (Matrix* m : matrices()) {
    if (kernels::packable(m->view)) todo.push_back(m);
  }
  if (todo.empty()) return Status::ok();
  const auto start = std::chrono::steady_clock::now();
  ThreadPool pool;
  for (Matrix* m : todo) {
    const auto [first, bytes] = packed_source_pages(m->view);
#ifdef MADV_POPULATE_READ
    // Maps the source pages in one call instead of one fault per page (best effort).
    if (release_originals && bytes > 0) madvise(reinterpret_cast<void*>(first), bytes, MADV_POPULATE_READ);
#endif
    SOV_ASSIGN_OR_RETURN(kernels::PackedBuffer buf, kernels::PackedBuffer::allocate(kernels::packed_size(m->view)));
    kernels::pack(m->view, buf.data(), &pool);
    m->view.packed = buf.data();
    packed_bytes_ += buf.size();
    packed_.push_back(std::move(buf));
    if (release_originals && bytes > 0) madvise(reinterpret_cast<void*>(first), bytes, MADV_DONTNEED);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  log::info("packed {} weight matrices ({:.1f} MiB) into 16-row interleaved layouts for the AVX-512 kernels in {:.0f} ms",
            todo.size(), packed_bytes_ / (1024.0 * 1024.0), ms);
  return Status::ok();
}

}  // namespace sov::engine
