#include "gguf/writer.h"

#include <fmt/format.h>

#include <cstring>

#include "base/mapped_file.h"

namespace sov::gguf {
namespace {

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>* out) : out_(out) {}
  template <typename T>
  void pod(T x) {
    size_t at = out_->size();
    out_->resize(at + sizeof(T));
    std::memcpy(out_->data() + at, &x, sizeof(T));
  }
  void string(const std::string& s) {
    pod<uint64_t>(s.size());
    out_->insert(out_->end(), s.begin(), s.end());
  }
  void pad_to(size_t alignment) {
    while (out_->size() % alignment != 0) out_->push_back(0);
  }
  void value(const Value& v) {
    std::visit(
        [this](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            string(x);
          } else if constexpr (std::is_same_v<T, Array>) {
            pod<uint32_t>(static_cast<uint32_t>(x.type));
            pod<uint64_t>(x.items.size());
            for (const Value& item : x.items) value(item);
          } else if constexpr (std::is_same_v<T, bool>) {
            pod<uint8_t>(x ? 1 : 0);
          } else {
            pod<T>(x);
          }
        },
        v.v);
  }

 private:
  std::vector<uint8_t>* out_;
};

}  // namespace

void Writer::set(const std::string& key, Value value) {
  for (auto& kv : kv_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  kv_.push_back({key, std::move(value)});
}

Status Writer::check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& shape,
                            size_t data_size, TensorInfo* info) const {
  if (name.empty()) return Status::invalid_argument("tensor name is empty");
  for (const auto& t : tensors_) {
    if (t.info.name == name) return Status::invalid_argument("duplicate tensor '" + name + "'");
  }
  if (shape.empty() || shape.size() > kMaxDims) {
    return Status::invalid_argument(fmt::format("tensor '{}' has {} dimensions", name, shape.size()));
  }
  info->name = name;
  info->type = type;
  info->n_dims = static_cast<int>(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) return Status::invalid_argument("tensor '" + name + "' has a negative dimension");
    info->ne[d] = shape[d];
  }
  auto row = row_bytes(type, info->ne[0]);
  if (!row) {
    return Status::invalid_argument(fmt::format("tensor '{}': row of {} elements does not fit type {}", name,
                                                info->ne[0], type_name(type)));
  }
  info->n_bytes = *row * static_cast<size_t>(info->n_rows());
  if (info->n_bytes != data_size) {
    return Status::invalid_argument(
        fmt::format("tensor '{}' needs {} bytes, got {}", name, info->n_bytes, data_size));
  }
  return Status::ok();
}

Status Writer::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> shape,
                          std::span<const uint8_t> data) {
  PendingTensor t;
  SOV_RETURN_IF_ERROR(check_tensor(name, type, shape, data.size(), &t.info));
  t.owned.assign(data.begin(), data.end());
  tensors_.push_back(std::move(t));
  return Status::ok();
}

Status Writer::add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> shape,
                               std::span<const uint8_t> data) {
  PendingTensor t;
  SOV_RETURN_IF_ERROR(check_tensor(name, type, shape, data.size(), &t.info));
  t.view = data;
  tensors_.push_back(std::move(t));
  return Status::ok();
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<KeyValue> kv = kv_;
  if (alignment_ != kDefaultAlignment) {
    bool present = false;
    for (auto& e : kv) {
      if (e.key == "general.alignment") {
        e.value = alignment_;
        present = true;
      }
    }
    if (!present) kv.push_back({"general.alignment", Value(alignment_)});
  }

  std::vector<uint8_t> out;
  ByteSink sink(&out);
  sink.pod<uint32_t>(kMagic);
  sink.pod<uint32_t>(version_);
  sink.pod<uint64_t>(tensors_.size());
  sink.pod<uint64_t>(kv.size());
  for (const auto& e : kv) {
    sink.string(e.key);
    sink.pod<uint32_t>(static_cast<uint32_t>(e.value.type()));
    sink.value(e.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    sink.string(t.info.name);
    sink.pod<uint32_t>(static_cast<uint32_t>(t.info.n_dims));
    for (int d = 0; d < t.info.n_dims; ++d) sink.pod<int64_t>(t.info.ne[d]);
    sink.pod<uint32_t>(static_cast<uint32_t>(t.info.type));
    sink.pod<uint64_t>(offset);
    offset += (t.info.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  sink.pad_to(alignment_);
  for (const auto& t : tensors_) {
    std::span<const uint8_t> data = t.view.empty() ? std::span<const uint8_t>(t.owned) : t.view;
    out.insert(out.end(), data.begin(), data.end());
    sink.pad_to(alignment_);
  }
  return out;
}

Status Writer::write(const std::string& path) const {
  std::vector<uint8_t> bytes = to_bytes();
  return write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace sov::gguf
