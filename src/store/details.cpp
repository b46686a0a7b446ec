#include "store/details.h"

#include <fmt/format.h>

#include <map>

#include "quant/model_quantize.h"

namespace sov::store {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// general.file_type when present and known, else the type holding most weight elements.
std::string quantization_level(const gguf::File& file) {
  if (auto ft = file.get_int("general.file_type"); ft.is_ok() && *ft >= 0) {
    const auto type = static_cast<quant::FileType>(*ft);
    std::string_view name = quant::file_type_name(type);  // falls back to "F32" for unknown ids
    if (auto back = quant::parse_file_type(name); back && *back == type) return std::string(name);
  }
  std::map<gguf::TensorType, int64_t> elements;
  for (const auto& t : file.tensors()) {
    if (t.info.n_dims >= 2) elements[t.info.type] += t.info.n_elements();
  }
  gguf::TensorType best = gguf::TensorType::kF32;
  int64_t most = -1;
  for (const auto& [type, n] : elements) {
    if (n > most) {
      most = n;
      best = type;
    }
  }
  return upper(gguf::type_name(best));
}

}  // namespace

std::string format_parameter_count(uint64_t n) {
  auto one_decimal = [](double v, const char* unit) {
    std::string s = v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
    if (s.ends_with(".0")) s.resize(s.size() - 2);
    return s + unit;
  };
  if (n >= 1000000000ull) return one_decimal(static_cast<double>(n) / 1e9, "B");
  if (n >= 1000000ull) return one_decimal(static_cast<double>(n) / 1e6, "M");
  if (n >= 1000ull) return one_decimal(static_cast<double>(n) / 1e3, "K");
  return std::to_string(n);
}

ModelDetails model_details(const gguf::File& file) {
  ModelDetails d;
  d.family = file.architecture();
  for (const auto& t : file.tensors()) d.n_params += static_cast<uint64_t>(t.info.n_elements());
  d.parameter_size = format_parameter_count(d.n_params);
  d.quantization_level = quantization_level(file);
  if (auto c = file.get_int(d.family + ".context_length"); c.is_ok()) d.context_length = *c;
  if (auto e = file.get_int(d.family + ".embedding_length"); e.is_ok()) d.embedding_length = *e;
  return d;
}

Result<ModelDetails> read_model_details(const std::string& gguf_path) {
  SOV_ASSIGN_OR_RETURN(gguf::File file, gguf::File::open(gguf_path));
  return model_details(file);
}

}  // namespace sov::store
