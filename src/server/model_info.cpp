#include "server/model_info.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>

#include "quant/model_quantize.h"

namespace sov::server {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string quantization_level(const gguf::File& file) {
  if (auto ft = file.get_int("general.file_type"); ft.is_ok()) {
    // file_type_name maps unknown values to a default: check the round trip.
    const auto type = static_cast<quant::FileType>(*ft);
    std::string_view name = quant::file_type_name(type);
    auto back = quant::parse_file_type(name);
    if (!name.empty() && back && *back == type) return upper(name);
  }
  // No (known) file type: the most common type among the matrices.
  std::map<std::string, uint64_t> bytes;
  for (const auto& t : file.tensors()) {
    if (t.info.n_dims >= 2) bytes[upper(gguf::type_name(t.info.type))] += t.info.n_bytes;
  }
  std::string best = "unknown";
  uint64_t most = 0;
  for (const auto& [name, n] : bytes) {
    if (n > most) {
      most = n;
      best = name;
    }
  }
  return best;
}

nlohmann::json value_json(const gguf::Value& v, bool verbose) {
  if (const auto* s = v.as_string()) return *s;
  if (const auto* a = v.as_array()) {
    if (!verbose && a->items.size() > 64) return nlohmann::json::array();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : a->items) out.push_back(value_json(item, verbose));
    return out;
  }
  if (v.type() == gguf::ValueType::kBool) return *v.as_bool();
  if (v.type() == gguf::ValueType::kFloat32 || v.type() == gguf::ValueType::kFloat64) return *v.as_double();
  if (auto i = v.as_int()) return *i;
  if (auto d = v.as_double()) return *d;  // uint64 beyond int64
  return nullptr;
}

}  // namespace

std::string format_parameter_count(uint64_t n) {
  auto fmt1 = [](double v, const char* unit) {
    std::string s = v >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
    if (s.ends_with(".0")) s.resize(s.size() - 2);
    return s + unit;
  };
  if (n >= 1000000000ull) return fmt1(n / 1e9, "B");
  if (n >= 1000000ull) return fmt1(n / 1e6, "M");
  if (n >= 1000ull) return fmt1(n / 1e3, "K");
  return std::to_string(n);
}

ModelInfo read_model_info(const gguf::File& file) {
  ModelInfo info;
  info.family = file.architecture();
  for (const auto& t : file.tensors()) info.n_params += static_cast<uint64_t>(t.info.n_elements());
  info.parameter_size = format_parameter_count(info.n_params);
  info.quantization_level = quantization_level(file);
  if (auto c = file.get_int(info.family + ".context_length"); c.is_ok()) info.context_length = *c;
  if (auto t = file.get_string("tokenizer.chat_template"); t.is_ok()) info.chat_template = *t;
  info.has_fim = file.find("tokenizer.ggml.fim_pre_token_id") || file.find("tokenizer.ggml.prefix_token_id");
  return info;
}

nlohmann::json details_json(const ModelInfo& info) {
  return {{"parent_model", ""},
          {"format", "gguf"},
          {"family", info.family},
          {"families", info.family.empty() ? nlohmann::json(nullptr) : nlohmann::json::array({info.family})},
          {"parameter_size", info.parameter_size},
          {"quantization_level", info.quantization_level}};
}

Result<std::string> sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("{}: cannot open for hashing", path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Status::internal("sha256 init failed");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize got = in.gcount();
    if (got > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(got));
  }
  if (in.bad()) return Status::io_error(fmt::format("{}: read error while hashing", path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

nlohmann::json metadata_json(const gguf::File& file, bool verbose) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& kv : file.metadata()) out[kv.key] = value_json(kv.value, verbose);
  return out;
}

Result<ModelInfo> ModelInfoCache::get(const ModelEntry& entry) {
  // A store model's digest is its manifest's (known); a plain file is hashed once.
  auto with_digest = [&](ModelInfo info) {
    if (!entry.digest.empty()) info.digest = entry.digest;
    return info;
  };
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(entry.path);
    if (it != cache_.end() && it->second.size == entry.size && it->second.modified == entry.modified) {
      return with_digest(it->second.info);
    }
  }
  SOV_ASSIGN_OR_RETURN(gguf::File file, gguf::File::open(entry.path));
  ModelInfo info = read_model_info(file);
  if (entry.digest.empty()) {
    SOV_ASSIGN_OR_RETURN(info.digest, sha256_file(entry.path));
  }
  std::lock_guard lock(mu_);
  cache_[entry.path] = Cached{entry.size, entry.modified, info};
  return with_digest(info);
}

}  // namespace sov::server
