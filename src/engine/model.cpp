#include "engine/model.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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
  if (file_backed && model->weights_.token_embd.view.packed == nullptr) {
    // Embedding lookups touch single rows: map just the touched page, not the kernel's
    // default window of pages around it.
    const kernels::WeightView& e = model->weights_.token_embd.view;
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t first = reinterpret_cast<uintptr_t>(e.data) / page * page;
    const uintptr_t end = reinterpret_cast<uintptr_t>(e.data) + static_cast<uintptr_t>(e.n_out) * e.row_bytes;
    madvise(reinterpret_cast<void*>(first), end - first, MADV_RANDOM);
  }
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

Status Model::pack_weights(bool release_originals) {
  std::vector<Matrix*> todo;
  for (Matrix* m : matrices()) {
    if (kernels::packable(m->view)) todo.push_back(m);
  }
  if (todo.empty()) return Status::ok();
  const auto start = std::chrono::steady_clock::now();
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  ThreadPool pool;
  // One buffer for all matrices, in the order the forward pass streams them: most matrices
  // are smaller than a 2 MiB huge page, so buffers of their own would get none (only 16 of
  // the 62 MiB of the 150M model did), and the TLB misses cost generation speed.
  const auto padded_size = [](const kernels::WeightView& v) {
    return (kernels::packed_size(v) + 63) / 64 * 64;
  };
  size_t total = 0;
  for (Matrix* m : todo) total += padded_size(m->view);
  SOV_ASSIGN_OR_RETURN(kernels::PackedBuffer buf, kernels::PackedBuffer::allocate(total));
  size_t offset = 0;
  for (Matrix* m : todo) {
    const kernels::WeightView& v = m->view;
    uint8_t* packed = buf.data() + offset;
    offset += padded_size(v);
    // A few MiB of source rows at a time: map them in, pack them, drop them, so the resident
    // size grows by the packed copy only.
    const int64_t n_groups = v.n_out / kernels::kPackRows;
    const size_t group_src = v.row_bytes * kernels::kPackRows;
    const int64_t step = std::max<int64_t>(1, static_cast<int64_t>((4u << 20) / group_src));
    const auto base = reinterpret_cast<uintptr_t>(v.data);
    uintptr_t released = (base + page - 1) / page * page;  // pages below are dropped
    for (int64_t g0 = 0; g0 < n_groups; g0 += step) {
      const int64_t g1 = std::min(n_groups, g0 + step);
      const uintptr_t end = base + static_cast<uintptr_t>(g1) * group_src;
#ifdef MADV_POPULATE_READ
      if (release_originals) {
        // Maps the source pages in one call instead of one fault per page (best effort).
        const uintptr_t first = (base + static_cast<uintptr_t>(g0) * group_src) / page * page;
        madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_READ);
      }
#endif
      kernels::pack_groups(v, packed, g0, g1, &pool);
      const uintptr_t last = end / page * page;
      if (release_originals && last > released) {
        madvise(reinterpret_cast<void*>(released), last - released, MADV_DONTNEED);
        released = last;
      }
    }
    m->view.packed = packed;
  }
  packed_bytes_ = buf.size();
  packed_ = std::move(buf);
  // Tied embeddings: lookups read the packed copy of the output too.
  if (weights_.token_embd.view.data == weights_.output.view.data) {
    weights_.token_embd.view.packed = weights_.output.view.packed;
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  log::info(
      "packed {} weight matrices ({:.1f} MiB) into 16-row interleaved layouts for the AVX-512 kernels in "
      "{:.0f} ms",
      todo.size(), packed_bytes_ / (1024.0 * 1024.0), ms);
  return Status::ok();
}

}  // namespace sov::engine
