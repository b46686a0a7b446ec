// The model store: models by name, in a content-addressed folder laid out like Ollama's.
//
//   <root>/manifests/<host>/<namespace>/<model>/<tag>   image manifest (JSON)
//   <root>/blobs/sha256-<hex>                            content, named by its SHA-256
//
// <root> is SOV_MODELS (default ~/.sovereign/models) and is the only place written.
// Further roots (an Ollama store such as ~/.ollama/models) are read in place, never
// written: their models resolve and list like ours, and pulls, copies and creates link
// (or copy) blobs they already hold instead of downloading them again.
//
// Contract for callers (the CLI and the server use only this class):
//   resolve(name)             -> ResolvedModel{gguf_path, params, template_text, system,
//                                messages, licenses, digest, size, modified, ...}
//                                Store names only: a network client can never make it
//                                open an arbitrary path. resolve_name_or_path() also
//                                accepts a path to a .gguf file (local callers only).
//   list()                    -> every model of every root (the writable root wins a tie)
//   remove(name)              -> deletes the manifest, then garbage-collects blobs that no
//                                manifest of the writable root references
//   copy(src, dst)            -> a second name for the same manifest (blobs shared)
//   pull(name, options, progress, cancel)
//                             -> registry download, resumable, SHA-256 verified; progress
//                                events have Ollama's /api/pull shape
//   create(name, request, progress, cancel)
//                             -> a model from a GGUF file, a blob or another model plus
//                                template/system/parameters/messages/licenses (Modelfile)
//   has_blob / begin_blob     -> for /api/blobs/:digest (HEAD and POST)
// Errors: kInvalidArgument (bad name, digest, request), kNotFound (no such model), kCorrupt
// (bad manifest or blob), kIoError (file system, network after retries), kCancelled,
// kResourceExhausted (not enough disk space), kUnsupported.
//
// Safety: every name and digest is validated (name.h, digest.h) before it becomes a path.
// Manifests are written atomically (temporary file + rename); blobs appear only after
// their hash is verified. A model that is loaded keeps working after `remove` (its blob
// is unlinked but stays mapped).
//
// Thread-safety: all methods may be called concurrently from any threads and processes;
// the store coordinates through atomic renames and lock files. Store holds no mutable
// state in memory.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"
#include "store/manifest.h"
#include "store/modelfile.h"
#include "store/name.h"

namespace sov::store {

struct StoreOptions {
  std::string root;                          // writable store (created on first write)
  std::vector<std::string> read_only_roots;  // e.g. an Ollama store, read in place
  std::string registry;                      // registry base URL for every pull ("" = https://<host>)
};

struct ResolvedModel {
  std::string name;       // "llama3.2:latest" (display form), or the path for a file
  std::string full_name;  // "registry.ollama.ai/library/llama3.2:latest"; "" for a file
  std::string gguf_path;  // the model weights
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  std::string template_text;  // Ollama (Go) template from the manifest; "" when none
  std::string system;
  std::vector<ChatMessage> messages;
  std::vector<std::string> licenses;
  std::string digest;        // "sha256:<hex>" of the manifest (Ollama's model digest); "" for a file
  std::string model_digest;  // "sha256:<hex>" of the weights blob; "" for a file
  uint64_t size = 0;         // bytes of all layers (the file size for a file)
  std::chrono::system_clock::time_point modified;
  bool is_file = false;    // resolved from a path, not from the store
  bool read_only = false;  // lives in a read-only root (or is a file): remove() refuses it
  std::string store_root;  // the root holding the manifest; "" for a file
};

struct ListedModel {
  std::string name;       // display form
  std::string full_name;  // host/namespace/model:tag
  std::string digest;     // of the manifest
  uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
  bool read_only = false;
  std::string store_root;
  std::string gguf_path;  // "" when the model layer's blob is missing
};

// One progress event, shaped like a line of Ollama's /api/pull stream: {"status": ...,
// "digest": ..., "total": ..., "completed": ...}; digest/total/completed are set for layer
// progress only.
struct Progress {
  std::string status;
  std::string digest;
  uint64_t total = 0;
  uint64_t completed = 0;
};
inline Progress status_event(std::string status) {
  Progress p;
  p.status = std::move(status);
  return p;
}
// Called on the calling thread or a download thread, never concurrently.
using ProgressFn = std::function<void(const Progress&)>;

struct PullOptions {
  std::string registry;            // overrides StoreOptions::registry when not empty
  bool insecure = false;           // allow plain-http registries and unverified TLS
  uint64_t part_size = 64u << 20;  // larger blobs are fetched in ranged parts
  int max_parallel = 4;            // parts in flight
  int max_retries = 6;             // per part, consecutive failures without progress
  int retry_backoff_ms = 1000;     // doubles per failure, capped at 30 s
  int stall_timeout_ms = 30000;    // no byte for this long counts as a failure
  int connect_timeout_ms = 15000;
  // Free bytes at a path (tests inject a full disk); default statvfs.
  std::function<Result<uint64_t>(const std::string&)> free_space;
};

struct CreateRequest {
  // Exactly one source: `from` (a store name, or a .gguf path when allow_paths) or
  // `from_blob` (a GGUF blob already in the store, e.g. uploaded through /api/blobs).
  std::string from;
  Digest from_blob;
  bool allow_paths = true;  // servers set false: paths are not for network clients
  std::string base_dir;     // relative paths resolve against this (the Modelfile's folder)
  std::string quantize;     // "" or a type such as "Q4_K_M" (source must be F32/F16/BF16)
  // Unset fields are inherited from a `from` model; set ones replace them. An empty
  // template or system removes it. Parameters are merged key by key over the base's.
  std::optional<std::string> template_text;
  std::optional<std::string> system;
  std::optional<nlohmann::ordered_json> params;
  std::optional<std::vector<ChatMessage>> messages;
  std::optional<std::vector<std::string>> licenses;
};

// A Modelfile as a CreateRequest (parameters converted to typed JSON).
Result<CreateRequest> create_request_from_modelfile(const Modelfile& modelfile, const std::string& base_dir);
// The Modelfile that recreates a resolved model (`sov show --modelfile`).
Modelfile modelfile_of(const ResolvedModel& model);

// Streams bytes into the store as one blob; commit() verifies the digest. While it exists
// it holds the store's shared lock (garbage collection waits for it).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // an uncommitted blob is discarded
  virtual Status write(const void* data, size_t n) = 0;
  // Verifies the SHA-256 (when `expected` is not empty) and moves the blob into place.
  virtual Result<Digest> commit(const Digest& expected) = 0;
  virtual uint64_t bytes_written() const = 0;
};

struct GcResult {
  bool skipped = false;  // another process was pulling or creating; nothing deleted
  size_t removed = 0;
  uint64_t bytes = 0;
};

class Store {
 public:
  explicit Store(StoreOptions options);

  const std::string& root() const { return options_.root; }
  const StoreOptions& options() const { return options_; }

  Result<ResolvedModel> resolve(std::string_view name) const;
  Result<ResolvedModel> resolve_name_or_path(std::string_view text) const;
  Result<std::vector<ListedModel>> list() const;
  Status remove(std::string_view name, GcResult* gc = nullptr);
  Status copy(std::string_view source, std::string_view destination);
  Status pull(std::string_view name, const PullOptions& options, const ProgressFn& progress,
              const std::atomic<bool>* cancel);
  Status create(std::string_view name, const CreateRequest& request, const ProgressFn& progress,
                const std::atomic<bool>* cancel);

  // The path of a blob in any root, or nullopt.
  std::optional<std::string> find_blob(const Digest& digest) const;
  bool has_blob(const Digest& digest) const { return find_blob(digest).has_value(); }
  Result<std::unique_ptr<BlobWriter>> begin_blob();
  // Deletes blobs of the writable root that no manifest there references, leftovers of
  // crashed writers, and partial downloads untouched for a day. Skipped (not waited for)
  // while a pull, create or upload is running.
  Result<GcResult> collect_garbage();

  // Paths inside the writable root.
  std::string blobs_dir() const { return options_.root + "/blobs"; }
  std::string manifests_dir() const { return options_.root + "/manifests"; }

 private:
  struct Found {
    size_t root_index = 0;
    std::string path;
    std::string text;
  };
  std::vector<std::string> roots() const;
  Result<std::optional<Found>> find_manifest(const ModelName& name) const;
  Result<ResolvedModel> load(const ModelName& name, const Found& found) const;
  // Makes a blob present in the writable root (hard link or copy from a read-only root).
  Status ensure_blob_local(const Digest& digest, uint64_t size);
  Status write_manifest(const ModelName& name, std::string_view text);
  Result<Digest> put_blob_bytes(std::string_view bytes);
  std::string lock_path() const { return options_.root + "/.sov-store.lock"; }

  StoreOptions options_;
};

}  // namespace sov::store
