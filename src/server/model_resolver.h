// ModelResolver: maps the `model` field of a request to a GGUF file (plus what the model's
// manifest says: parameters, template, system prompt, messages, licenses), lists the models a
// client may use, and copies/deletes them. The server's resolver is StoreResolver
// (store_resolver.h: the model store, loose GGUF files in the store folder, --model files);
// DirectoryResolver below serves the loose files and is used by it.
//
// DirectoryResolver security: a model name comes from the network, so it can only ever name
// a file directly inside the models directory: names are [A-Za-z0-9_.-]+ with an optional
// ":tag" of the same characters, never start with '.' or '-', contain no '/', '\\' or "..".
// A file path is accepted only when it is exactly one of the files the server was started
// with (--model).
//
// Name mapping: "llama3" and "llama3:latest" -> <dir>/llama3.gguf; "llama3:8b" ->
// <dir>/llama3:8b.gguf; a trailing ".gguf" in the name is ignored. Listed names carry their
// tag ("llama3:latest").
//
// Resolvers are immutable apart from the files they manage; all methods are thread-safe
// (they only touch the file system).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::store {
class Store;
}

namespace sov::server {

struct ModelEntry {
  std::string name;  // canonical "name:tag"
  std::string path;  // the GGUF file
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  bool in_models_dir = false;  // a loose file of the models directory (deletable)

  // Models from the store (empty for plain files):
  bool from_store = false;
  bool read_only = false;  // in a read-only store (e.g. Ollama's): not deletable here
  std::string digest;      // sha256 hex of the manifest (Ollama's model digest)
  nlohmann::ordered_json params = nlohmann::ordered_json::object();  // Modelfile PARAMETERs
  std::string template_text;                                         // Modelfile TEMPLATE
  std::string system;                                                // Modelfile SYSTEM
  std::vector<std::pair<std::string, std::string>> messages;         // MESSAGE (role, content)
  std::vector<std::string> licenses;

  // The same model with the same configuration (runners are shared only then).
  bool same_model(const ModelEntry& o) const { return path == o.path && digest == o.digest; }
};

class ModelResolver {
 public:
  virtual ~ModelResolver() = default;
  // kInvalidArgument for a malformed name, kNotFound when no such model exists.
  virtual Result<ModelEntry> resolve(std::string_view name) const = 0;
  // Every model a client may use, sorted by name.
  virtual std::vector<ModelEntry> list() const = 0;
  // Copies `source` (any resolvable model) to the name `destination` in the models directory.
  virtual Status copy(std::string_view source, std::string_view destination) = 0;
  // Deletes a model from the models directory (files given on the command line are refused).
  virtual Status remove(std::string_view name) = 0;
  // The model store behind this resolver, for pull/create/blobs; nullptr when there is none.
  virtual store::Store* store() { return nullptr; }
};

// Validates a client-supplied name and returns its canonical form "name:tag".
Result<std::string> canonical_model_name(std::string_view name);

class DirectoryResolver final : public ModelResolver {
 public:
  // models_dir may be empty (only the preloaded files are served).
  DirectoryResolver(std::string models_dir, std::vector<std::string> preload_paths);

  Result<ModelEntry> resolve(std::string_view name) const override;
  std::vector<ModelEntry> list() const override;
  Status copy(std::string_view source, std::string_view destination) override;
  Status remove(std::string_view name) override;

 private:
  std::filesystem::path file_for(const std::string& canonical) const;
  std::string models_dir_;
  std::vector<ModelEntry> preload_;  // name = canonical name of the file stem
};

}  // namespace sov::server
