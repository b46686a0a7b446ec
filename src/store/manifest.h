// Image manifests (Docker distribution v2 / OCI, as Ollama's registry serves them): a config
// blob and a list of layers, each a (media type, digest, size). Parsing is strict because
// manifests come from registries and from the store on disk: every digest is validated
// (Digest::parse), sizes are bounded, unknown fields are ignored, and the number of layers
// and the text size are capped.
//
// Pure functions; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"

namespace sov::store {

inline constexpr std::string_view kManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kConfigMediaType = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kMediaModel = "application/vnd.ollama.image.model";
inline constexpr std::string_view kMediaTemplate = "application/vnd.ollama.image.template";
inline constexpr std::string_view kMediaSystem = "application/vnd.ollama.image.system";
inline constexpr std::string_view kMediaParams = "application/vnd.ollama.image.params";
inline constexpr std::string_view kMediaLicense = "application/vnd.ollama.image.license";
inline constexpr std::string_view kMediaMessages = "application/vnd.ollama.image.messages";
inline constexpr std::string_view kMediaAdapter = "application/vnd.ollama.image.adapter";
inline constexpr std::string_view kMediaProjector = "application/vnd.ollama.image.projector";

inline constexpr size_t kMaxManifestBytes = 4u << 20;
inline constexpr size_t kMaxLayers = 1024;
inline constexpr uint64_t kMaxBlobSize = uint64_t{1} << 50;  // 1 PiB: anything larger is a lie

struct Layer {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::string from;  // Ollama records the base model a layer came from; informational
};

struct Manifest {
  int schema_version = 2;
  std::string media_type = std::string(kManifestMediaType);
  Layer config;
  std::vector<Layer> layers;

  // The first layer with this media type, or null.
  const Layer* find(std::string_view media_type) const;
  // Config plus every layer (Ollama's "size" of a model).
  uint64_t total_size() const;
};

Result<Manifest> parse_manifest(std::string_view json_text);
// Compact JSON in Ollama's field order (schemaVersion, mediaType, config, layers).
std::string serialize_manifest(const Manifest& manifest);

}  // namespace sov::store
