// StoreResolver: the server's ModelResolver. Request names resolve, in this order, to
//   1. a file given with `sov serve --model FILE`, when the name is exactly its path;
//   2. a model of the store (store::Store: SOV_MODELS, plus a read-only Ollama store), by a
//      store name "[host/][namespace/]model[:tag]" or "hf.co/user/repo:quant" — with the
//      manifest's parameters, template, system prompt, messages and licenses;
//   3. a loose GGUF file directly inside the store folder ("<root>/<name>.gguf", see
//      DirectoryResolver) or a --model file, by its file stem.
// A store model hides a loose file of the same name in listings and lookups.
//
// copy() writes a store model (a loose file is imported as a new blob), remove() deletes a
// store manifest and garbage-collects unreferenced blobs (a model that is loaded keeps
// working: its blob is unlinked but stays mapped), or deletes a loose file.
//
// Security: names from the network are validated by store::parse_model_name or
// canonical_model_name before any file system access; paths are accepted only for --model
// files. Thread-safe (the store and the directory hold no mutable state in memory).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/model_resolver.h"
#include "store/store.h"

namespace sov::server {

class StoreResolver final : public ModelResolver {
 public:
  // options.root is the writable store (and the folder of loose GGUF files); `preload` are
  // the --model files.
  StoreResolver(store::StoreOptions options, std::vector<std::string> preload);

  Result<ModelEntry> resolve(std::string_view name) const override;
  std::vector<ModelEntry> list() const override;
  Status copy(std::string_view source, std::string_view destination) override;
  Status remove(std::string_view name) override;
  store::Store* store() override { return &store_; }

 private:
  store::Store store_;
  DirectoryResolver files_;
  std::vector<std::string> preload_;
};

// A resolved store model as a ModelEntry.
ModelEntry entry_from_store(const store::ResolvedModel& model);

}  // namespace sov::server
