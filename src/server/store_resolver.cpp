#include "server/store_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "base/log.h"
#include "store/name.h"

namespace sov::server {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string digest_hex(const std::string& digest) {
  constexpr std::string_view kPrefix = "sha256:";
  return digest.starts_with(kPrefix) ? digest.substr(kPrefix.size()) : digest;
}

}  // namespace

ModelEntry entry_from_store(const store::ResolvedModel& m) {
  ModelEntry e;
  e.name = m.name;
  e.path = m.gguf_path;
  e.size = m.size;
  e.modified = m.modified;
  e.from_store = true;
  e.read_only = m.read_only;
  e.digest = digest_hex(m.digest);
  e.params = m.params;
  e.template_text = m.template_text;
  e.system = m.system;
  for (const auto& msg : m.messages) e.messages.emplace_back(msg.role, msg.content);
  e.licenses = m.licenses;
  return e;
}

StoreResolver::StoreResolver(store::StoreOptions options, std::vector<std::string> preload)
    : store_(std::move(options)), files_(store_.root(), preload), preload_(std::move(preload)) {}

Result<ModelEntry> StoreResolver::resolve(std::string_view name) const {
  for (const auto& p : preload_) {
    if (name == p) return files_.resolve(name);
  }
  auto parsed = store::parse_model_name(name);
  Status store_error;
  if (parsed) {
    auto found = store_.resolve(name);
    if (found) return entry_from_store(*found);
    if (found.status().code() != ErrorCode::kNotFound) return found.status();
    store_error = found.status();
  }
  // A loose file of the store folder or a --model file, by its stem.
  if (name.find('/') == std::string_view::npos && name.find('\\') == std::string_view::npos) {
    auto file = files_.resolve(name);
    if (file || file.status().code() != ErrorCode::kNotFound || !parsed) return file;
  }
  if (!parsed) return parsed.status();
  return store_error;
}

std::vector<ModelEntry> StoreResolver::list() const {
  std::vector<ModelEntry> out;
  std::set<std::string> names;
  auto listed = store_.list();
  if (!listed) {
    log::warn("listing the model store: {}", listed.status().message());
  } else {
    for (const auto& m : *listed) {
      if (m.gguf_path.empty()) continue;  // incomplete: its weights are missing
      ModelEntry e;
      e.name = m.name;
      e.path = m.gguf_path;
      e.size = m.size;
      e.modified = m.modified;
      e.from_store = true;
      e.read_only = m.read_only;
      e.digest = digest_hex(m.digest);
      names.insert(lower(e.name));
      out.push_back(std::move(e));
    }
  }
  for (auto& e : files_.list()) {
    if (names.insert(lower(e.name)).second) out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const ModelEntry& a, const ModelEntry& b) { return a.name < b.name; });
  return out;
}

Status StoreResolver::copy(std::string_view source, std::string_view destination) {
  SOV_RETURN_IF_ERROR(store::parse_model_name(destination).status());
  SOV_ASSIGN_OR_RETURN(ModelEntry src, resolve(source));
  if (src.from_store) return store_.copy(source, destination);
  // A file becomes a store model: its bytes are imported as a blob.
  store::CreateRequest request;
  request.from = src.path;
  request.allow_paths = true;
  return store_.create(destination, request, nullptr, nullptr);
}

Status StoreResolver::remove(std::string_view name) {
  SOV_ASSIGN_OR_RETURN(ModelEntry e, resolve(name));
  if (e.from_store) {
    store::GcResult gc;
    SOV_RETURN_IF_ERROR(store_.remove(name, &gc));
    if (gc.removed > 0) log::info("deleted {} unreferenced blobs ({} bytes)", gc.removed, gc.bytes);
    return Status::ok();
  }
  return files_.remove(name);
}

}  // namespace sov::server
