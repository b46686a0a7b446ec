#include "store/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace sov::store {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

Result<Layer> parse_layer(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::corrupt(where + " is not an object");
  Layer layer;
  auto media = j.find("mediaType");
  if (media == j.end() || !media->is_string()) return Status::corrupt(where + ": missing mediaType");
  layer.media_type = media->get<std::string>();
  if (layer.media_type.empty() || layer.media_type.size() > 256 || !printable_ascii(layer.media_type)) {
    return Status::corrupt(where + ": malformed mediaType");
  }
  auto digest = j.find("digest");
  if (digest == j.end() || !digest->is_string()) return Status::corrupt(where + ": missing digest");
  auto d = Digest::parse(digest->get<std::string>());
  if (!d) return Status::corrupt(where + ": " + d.status().message());
  layer.digest = *d;
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer()) return Status::corrupt(where + ": missing size");
  if (size->is_number_unsigned()) {
    layer.size = size->get<uint64_t>();
  } else {
    int64_t v = size->get<int64_t>();
    if (v < 0) return Status::corrupt(where + ": negative size");
    layer.size = static_cast<uint64_t>(v);
  }
  if (layer.size > kMaxBlobSize) return Status::corrupt(where + ": implausible size");
  if (auto from = j.find("from"); from != j.end() && from->is_string()) {
    layer.from = from->get<std::string>();
    if (layer.from.size() > 4096 || !printable_ascii(layer.from)) layer.from.clear();
  }
  return layer;
}

ordered_json layer_json(const Layer& l) {
  ordered_json j;
  j["mediaType"] = l.media_type;
  j["digest"] = l.digest.str();
  j["size"] = l.size;
  if (!l.from.empty()) j["from"] = l.from;
  return j;
}

}  // namespace

const Layer* Manifest::find(std::string_view media_type) const {
  for (const auto& l : layers) {
    if (l.media_type == media_type) return &l;
  }
  return nullptr;
}

uint64_t Manifest::total_size() const {
  uint64_t total = config.digest.empty() ? 0 : config.size;
  for (const auto& l : layers) total += l.size;
  return total;
}

Result<Manifest> parse_manifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes) return Status::corrupt("manifest larger than 4 MiB");
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::corrupt("manifest is not valid JSON");
  if (!j.is_object()) return Status::corrupt("manifest is not a JSON object");
  Manifest m;
  auto version = j.find("schemaVersion");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return Status::unsupported("manifest schemaVersion is not 2");
  }
  if (auto media = j.find("mediaType"); media != j.end()) {
    if (!media->is_string()) return Status::corrupt("manifest mediaType is not a string");
    m.media_type = media->get<std::string>();
    if (m.media_type != kManifestMediaType && m.media_type != kOciManifestMediaType) {
      return Status::unsupported(
          fmt::format("unsupported manifest media type \"{}\"",
                      printable_ascii(m.media_type) ? m.media_type.substr(0, 100) : "?"));
    }
  }
  auto config = j.find("config");
  if (config == j.end()) return Status::corrupt("manifest has no config");
  SOV_ASSIGN_OR_RETURN(m.config, parse_layer(*config, "manifest config"));
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) return Status::corrupt("manifest has no layers array");
  if (layers->size() > kMaxLayers) return Status::corrupt("manifest has too many layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    SOV_ASSIGN_OR_RETURN(Layer l, parse_layer((*layers)[i], fmt::format("manifest layer {}", i)));
    m.layers.push_back(std::move(l));
  }
  return m;
}

std::string serialize_manifest(const Manifest& m) {
  ordered_json j;
  j["schemaVersion"] = m.schema_version;
  j["mediaType"] = m.media_type;
  j["config"] = layer_json(m.config);
  j["layers"] = ordered_json::array();
  for (const auto& l : m.layers) j["layers"].push_back(layer_json(l));
  return j.dump();
}

}  // namespace sov::store
