#include "engine/weights.h"

#include <fmt/format.h>

namespace sov::engine {

std::string layer_tensor(int layer, const char* suffix) { return fmt::format("blk.{}.{}", layer, suffix); }

Status WeightBinder::matrix(const std::string& name, int64_t n_in, int64_t n_out, Matrix* out,
                            bool required) const {
  const gguf::Tensor* t = file_.find_tensor(name);
  if (t == nullptr) {
    return required ? Status::not_found(fmt::format("tensor '{}' is missing", name)) : Status::ok();
  }
  const gguf::TensorInfo& info = t->info;
  if (info.n_dims > 2 || info.ne[0] != n_in || info.ne[1] != n_out) {
    return Status::corrupt(
        fmt::format("tensor '{}' has shape {}, expected [{}, {}]", name, info.shape_string(), n_in, n_out));
  }
  if (!kernels::supports(info.type)) {
    return Status::unsupported(
        fmt::format("tensor '{}' has type {}, which is not supported", name, gguf::type_name(info.type)));
  }
  out->view = kernels::WeightView{info.type, t->data, n_in, n_out, info.n_bytes / static_cast<size_t>(n_out)};
  return Status::ok();
}

Status WeightBinder::vector(const std::string& name, int64_t n, std::vector<float>* out, bool required) const {
  const gguf::Tensor* t = file_.find_tensor(name);
  if (t == nullptr) {
    return required ? Status::not_found(fmt::format("tensor '{}' is missing", name)) : Status::ok();
  }
  if (t->info.n_elements() != n || t->info.ne[0] != n) {
    return Status::corrupt(fmt::format("tensor '{}' has shape {}, expected [{}]", name, t->info.shape_string(), n));
  }
  if (!kernels::supports(t->info.type)) {
    return Status::unsupported(
        fmt::format("tensor '{}' has type {}, which is not supported", name, gguf::type_name(t->info.type)));
  }
  out->resize(static_cast<size_t>(n));
  kernels::WeightView view{t->info.type, t->data, n, 1, t->info.n_bytes};
  kernels::dequantize_row(view, 0, out->data());
  return Status::ok();
}

}  // namespace sov::engine
