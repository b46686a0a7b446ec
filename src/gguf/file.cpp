#include "gguf/file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/utf8.h"

namespace sov::gguf {

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Reads a GGUF byte image front to back. Every read is bounds-checked; every count is
// checked against the bytes left before anything is reserved, so a hostile count cannot
// cause a large allocation.
class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, File* file) : bytes_(bytes), file_(file) {}

  Status run() {
    SOV_RETURN_IF_ERROR(read_header());
    SOV_RETURN_IF_ERROR(read_metadata());
    SOV_RETURN_IF_ERROR(read_tensor_infos());
    return place_tensors();
  }

 private:
  static constexpr int kMaxArrayDepth = 8;
  static constexpr size_t kMaxNameLength = 256;

  size_t left() const { return bytes_.size() - pos_; }

  Status truncated(const std::string& what) const {
    return Status::corrupt(fmt::format("file truncated at offset {} while reading {}", pos_, what));
  }

  template <typename T>
  Status read_pod(T* out, const std::string& what) {
    if (left() < sizeof(T)) return truncated(what);
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string* out, const std::string& what) {
    uint64_t len{};
    SOV_RETURN_IF_ERROR(read_pod(&len, what + " length"));
    if (len > left()) {
      return Status::corrupt(fmt::format("{} at offset {} claims {} bytes but only {} remain", what,
                                         pos_ - 8, len, left()));
    }
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return Status::ok();
  }

  Status read_header() {
    uint32_t magic{};
    SOV_RETURN_IF_ERROR(read_pod(&magic, "magic"));
    if (magic != kMagic) {
      return Status::corrupt(fmt::format("bad magic 0x{:08x} at offset 0: not a GGUF file", magic));
    }
    SOV_RETURN_IF_ERROR(read_pod(&file_->version_, "version"));
    if (file_->version_ == 1) {
      return Status::unsupported("unsupported GGUF version 1 (GGUF v1 is no longer supported; "
                                 "convert the model again)");
    }
    if (file_->version_ != 2 && file_->version_ != 3) {
      return Status::unsupported(fmt::format("unsupported GGUF version {}", file_->version_));
    }
    SOV_RETURN_IF_ERROR(read_pod(&n_tensors_, "tensor count"));
    SOV_RETURN_IF_ERROR(read_pod(&n_kv_, "metadata count"));
    // The smallest metadata entry is 13 bytes (key length, type, one byte of value); the
    // smallest tensor info is 25 bytes (name length, a 1-char name, n_dims, one dim, type, offset).
    if (n_kv_ > left() / 13) {
      return Status::corrupt(fmt::format("metadata count {} is impossible for a file of {} bytes", n_kv_,
                                         bytes_.size()));
    }
    if (n_tensors_ > left() / 25) {
      return Status::corrupt(fmt::format("tensor count {} is impossible for a file of {} bytes",
                                         n_tensors_, bytes_.size()));
    }
    return Status::ok();
  }

  Status read_metadata() {
    file_->kv_.reserve(n_kv_);
    for (uint64_t i = 0; i < n_kv_; ++i) {
      size_t at = pos_;
      KeyValue kv;
      SOV_RETURN_IF_ERROR(read_string(&kv.key, fmt::format("metadata key #{}", i)));
      if (kv.key.empty()) return Status::corrupt(fmt::format("empty metadata key #{} at offset {}", i, at));
      if (!utf8::is_valid(kv.key)) {
        return Status::corrupt(fmt::format("metadata key #{} at offset {} is not valid UTF-8", i, at));
      }
      if (file_->kv_index_.count(kv.key)) {
        return Status::corrupt(fmt::format("duplicate metadata key '{}' at offset {}", kv.key, at));
      }
      uint32_t type{};
      SOV_RETURN_IF_ERROR(read_pod(&type, "type of key '" + kv.key + "'"));
      SOV_RETURN_IF_ERROR(read_value(type, &kv.value, kv.key, 0));
      file_->kv_index_.emplace(kv.key, file_->kv_.size());
      file_->kv_.push_back(std::move(kv));
    }
    if (const Value* a = file_->find("general.alignment")) {
      auto v = std::get_if<uint32_t>(&a->v);
      if (v == nullptr || *v == 0 || (*v & (*v - 1)) != 0) {
        return Status::corrupt("general.alignment must be a u32 power of two");
      }
      file_->alignment_ = *v;
    }
    return Status::ok();
  }

  // Minimum encoded size of one value of `type`, for bounding array counts.
  static size_t min_size(ValueType type) {
    switch (type) {
      case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
      case ValueType::kUint16: case ValueType::kInt16: return 2;
      case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
      case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
      case ValueType::kString: return 8;
      case ValueType::kArray: return 12;
    }
    return 1;
  }

  template <typename T>
  Status read_scalar(Value* out, const std::string& key) {
    T x{};
    SOV_RETURN_IF_ERROR(read_pod(&x, "value of key '" + key + "'"));
    out->v = x;
    return Status::ok();
  }

  Status read_value(uint32_t type_id, Value* out, const std::string& key, int depth) {
    if (type_id > static_cast<uint32_t>(ValueType::kFloat64)) {
      return Status::corrupt(
          fmt::format("key '{}' has unknown value type {} at offset {}", key, type_id, pos_ - 4));
    }
    switch (static_cast<ValueType>(type_id)) {
      case ValueType::kUint8: return read_scalar<uint8_t>(out, key);
      case ValueType::kInt8: return read_scalar<int8_t>(out, key);
      case ValueType::kUint16: return read_scalar<uint16_t>(out, key);
      case ValueType::kInt16: return read_scalar<int16_t>(out, key);
      case ValueType::kUint32: return read_scalar<uint32_t>(out, key);
      case ValueType::kInt32: return read_scalar<int32_t>(out, key);
      case ValueType::kFloat32: return read_scalar<float>(out, key);
      case ValueType::kUint64: return read_scalar<uint64_t>(out, key);
      case ValueType::kInt64: return read_scalar<int64_t>(out, key);
      case ValueType::kFloat64: return read_scalar<double>(out, key);
      case ValueType::kBool: {
        uint8_t b{};
        SOV_RETURN_IF_ERROR(read_pod(&b, "value of key '" + key + "'"));
        if (b > 1) return Status::corrupt(fmt::format("key '{}' has bool value {}", key, b));
        out->v = b != 0;
        return Status::ok();
      }
      case ValueType::kString: {
        std::string s;
        SOV_RETURN_IF_ERROR(read_string(&s, "string value of key '" + key + "'"));
        out->v = std::move(s);
        return Status::ok();
      }
      case ValueType::kArray: return read_array(out, key, depth);
    }
    return Status::internal("unreachable value type");
  }

  Status read_array(Value* out, const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) {
      return Status::corrupt(fmt::format("key '{}' nests arrays deeper than {}", key, kMaxArrayDepth));
    }
    uint32_t elem{};
    uint64_t count{};
    SOV_RETURN_IF_ERROR(read_pod(&elem, "array type of key '" + key + "'"));
    if (elem > static_cast<uint32_t>(ValueType::kFloat64)) {
      return Status::corrupt(fmt::format("key '{}' is an array of unknown type {}", key, elem));
    }
    SOV_RETURN_IF_ERROR(read_pod(&count, "array length of key '" + key + "'"));
    auto elem_type = static_cast<ValueType>(elem);
    if (count > left() / min_size(elem_type)) {
      return Status::corrupt(fmt::format("array '{}' at offset {} claims {} items but only {} bytes remain",
                                         key, pos_ - 8, count, left()));
    }
    Array array;
    array.type = elem_type;
    array.items.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      SOV_RETURN_IF_ERROR(read_value(elem, &array.items[i], key, depth + 1));
    }
    out->v = std::move(array);
    return Status::ok();
  }

  Status read_tensor_infos() {
    file_->tensors_.reserve(n_tensors_);
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      size_t at = pos_;
      Tensor t;
      TensorInfo& info = t.info;
      SOV_RETURN_IF_ERROR(read_string(&info.name, fmt::format("name of tensor #{}", i)));
      if (info.name.empty() || info.name.size() > kMaxNameLength || !utf8::is_valid(info.name)) {
        return Status::corrupt(fmt::format("tensor #{} at offset {} has an invalid name", i, at));
      }
      const std::string where = "tensor '" + info.name + "'";
      if (file_->tensor_index_.count(info.name)) {
        return Status::corrupt(fmt::format("duplicate tensor name '{}' at offset {}", info.name, at));
      }
      uint32_t n_dims{};
      SOV_RETURN_IF_ERROR(read_pod(&n_dims, "dimension count of " + where));
      if (n_dims == 0 || n_dims > kMaxDims) {
        return Status::corrupt(fmt::format("{} has {} dimensions (1 to {} allowed)", where, n_dims, kMaxDims));
      }
      info.n_dims = static_cast<int>(n_dims);
      int64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        SOV_RETURN_IF_ERROR(read_pod(&info.ne[d], "shape of " + where));
        if (info.ne[d] < 0) {
          return Status::corrupt(fmt::format("{} has negative dimension {}", where, info.ne[d]));
        }
        if (info.ne[d] != 0 && n_elements > std::numeric_limits<int64_t>::max() / info.ne[d]) {
          return Status::corrupt(fmt::format("{} has an element count that overflows", where));
        }
        n_elements *= info.ne[d];
      }
      uint32_t type{};
      SOV_RETURN_IF_ERROR(read_pod(&type, "type of " + where));
      auto traits = type_traits(type);
      if (!traits) return Status::corrupt(fmt::format("{} has unknown type {}", where, type));
      info.type = static_cast<TensorType>(type);
      if (info.ne[0] % traits->block_size != 0) {
        return Status::corrupt(fmt::format(
            "tensor '{}' of type {} ({}) has {} elements per row, not a multiple of block size ({})",
            info.name, type, traits->name, info.ne[0], traits->block_size));
      }
      SOV_RETURN_IF_ERROR(read_pod(&info.offset, "data offset of " + where));
      if (info.offset % file_->alignment_ != 0) {
        return Status::corrupt(fmt::format("{} data offset {} is not a multiple of the alignment {}", where,
                                           info.offset, file_->alignment_));
      }
      uint64_t row = 0, n_bytes = 0;
      uint64_t rows = static_cast<uint64_t>(n_elements == 0 ? 0 : n_elements / info.ne[0]);
      if (__builtin_mul_overflow(static_cast<uint64_t>(info.ne[0] / traits->block_size), traits->type_size, &row) ||
          __builtin_mul_overflow(row, rows, &n_bytes) || n_bytes > bytes_.size()) {
        return Status::corrupt(fmt::format("{} with shape {} needs more bytes than the file has", where,
                                           info.shape_string()));
      }
      info.n_bytes = n_bytes;
      file_->tensor_index_.emplace(info.name, file_->tensors_.size());
      file_->tensors_.push_back(std::move(t));
    }
    return Status::ok();
  }

  Status place_tensors() {
    uint64_t align = file_->alignment_;
    uint64_t data_offset = (pos_ + align - 1) / align * align;
    file_->data_offset_ = data_offset;
    if (n_tensors_ == 0) return Status::ok();  // vocab-only files may stop before the padding
    if (data_offset > bytes_.size()) {
      return Status::corrupt(fmt::format("file truncated: tensor data should start at offset {} but the "
                                         "file has {} bytes",
                                         data_offset, bytes_.size()));
    }
    uint64_t data_size = bytes_.size() - data_offset;
    std::vector<const Tensor*> by_offset;
    for (Tensor& t : file_->tensors_) {
      const TensorInfo& info = t.info;
      if (info.offset > data_size || info.n_bytes > data_size - info.offset) {
        return Status::corrupt(fmt::format(
            "tensor '{}' ({} bytes at data offset {}) lies outside the file (data section has {} bytes)",
            info.name, info.n_bytes, info.offset, data_size));
      }
      t.data = bytes_.data() + data_offset + info.offset;
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const Tensor* a, const Tensor* b) { return a->info.offset < b->info.offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const TensorInfo& prev = by_offset[i - 1]->info;
      const TensorInfo& cur = by_offset[i]->info;
      if (cur.offset < prev.offset + prev.n_bytes) {
        return Status::corrupt(fmt::format("tensor '{}' overlaps tensor '{}'", cur.name, prev.name));
      }
    }
    return Status::ok();
  }

  std::span<const uint8_t> bytes_;
  File* file_;
  size_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

Result<File> File::parse(std::span<const uint8_t> bytes) {
  File file;
  file.bytes_ = bytes;
  Parser parser(bytes, &file);
  SOV_RETURN_IF_ERROR(parser.run());
  return file;
}

Result<File> File::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped) return mapped.status();
  auto mapping = std::make_shared<MappedFile>(std::move(mapped).value());
  auto file = parse(mapping->bytes());
  if (!file) return file.status().with_context(path);
  file->mapping_ = std::move(mapping);
  return file;
}

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].value;
}

namespace {
Status missing(std::string_view key) { return Status::not_found(fmt::format("metadata key '{}' is missing", key)); }
Status wrong_type(std::string_view key, const Value& v, const char* wanted) {
  return Status::corrupt(
      fmt::format("metadata key '{}' has type {}, expected {}", key, value_type_name(v.type()), wanted));
}
}  // namespace

Result<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (auto s = v->as_string()) return *s;
  return wrong_type(key, *v, "a string");
}

Result<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (auto i = v->as_int()) return *i;
  return wrong_type(key, *v, "an integer");
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (auto d = v->as_double()) return *d;
  return wrong_type(key, *v, "a number");
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (auto b = v->as_bool()) return *b;
  return wrong_type(key, *v, "a bool");
}

Result<const Array*> File::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (auto a = v->as_array()) return a;
  return wrong_type(key, *v, "an array");
}

std::string File::architecture() const {
  auto arch = get_string("general.architecture");
  return arch ? *arch : std::string();
}

const Tensor* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace sov::gguf
