#include "server/model_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <system_error>

namespace sov::server {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxNameLength = 200;

bool valid_part(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || s[0] == '.' || s[0] == '-') return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::chrono::system_clock::time_point to_system(fs::file_time_type t) {
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(t));
}

Result<ModelEntry> stat_entry(const std::string& name, const fs::path& path, bool in_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::not_found(fmt::format("model \"{}\" not found", name));
  ModelEntry e;
  e.name = name;
  e.path = path.string();
  e.size = fs::file_size(path, ec);
  if (ec) return Status::io_error(fmt::format("model \"{}\": {}", name, ec.message()));
  e.modified = to_system(fs::last_write_time(path, ec));
  e.in_models_dir = in_dir;
  return e;
}

}  // namespace

Result<std::string> canonical_model_name(std::string_view name) {
  std::string_view base = name, tag = "latest";
  if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    base = name.substr(0, colon);
    tag = name.substr(colon + 1);
  }
  if (base.ends_with(".gguf") && base.size() > 5) base.remove_suffix(5);
  if (!valid_part(base) || !valid_part(tag)) {
    return Status::invalid_argument(
        fmt::format("invalid model name \"{}\": use letters, digits, '_', '.', '-' and an optional \":tag\"",
                    name.substr(0, 80)));
  }
  return fmt::format("{}:{}", base, tag);
}

DirectoryResolver::DirectoryResolver(std::string models_dir, std::vector<std::string> preload_paths)
    : models_dir_(std::move(models_dir)) {
  for (const auto& p : preload_paths) {
    ModelEntry e;
    e.path = p;
    auto canonical = canonical_model_name(fs::path(p).stem().string());
    e.name = canonical ? *canonical : fs::path(p).filename().string();
    preload_.push_back(std::move(e));
  }
}

fs::path DirectoryResolver::file_for(const std::string& canonical) const {
  std::string file = canonical.ends_with(":latest") ? canonical.substr(0, canonical.size() - 7) : canonical;
  return fs::path(models_dir_) / (file + ".gguf");
}

Result<ModelEntry> DirectoryResolver::resolve(std::string_view name) const {
  for (const auto& p : preload_) {
    if (name == p.path) return stat_entry(p.name, p.path, false);
  }
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Status::invalid_argument(fmt::format(
        "invalid model name \"{}\": file paths are only accepted for models the server was started with",
        name.substr(0, 80)));
  }
  SOV_ASSIGN_OR_RETURN(std::string canonical, canonical_model_name(name));
  if (!models_dir_.empty()) {
    fs::path path = file_for(canonical);
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return stat_entry(canonical, path, true);
  }
  for (const auto& p : preload_) {
    if (p.name == canonical) return stat_entry(p.name, p.path, false);
  }
  return Status::not_found(fmt::format("model \"{}\" not found", name));
}

std::vector<ModelEntry> DirectoryResolver::list() const {
  std::map<std::string, ModelEntry> by_name;
  for (const auto& p : preload_) {
    if (auto e = stat_entry(p.name, p.path, false)) by_name[p.name] = *e;
  }
  std::error_code ec;
  if (!models_dir_.empty()) {
    for (const auto& de : fs::directory_iterator(models_dir_, ec)) {
      const fs::path& path = de.path();
      if (path.extension() != ".gguf") continue;
      auto canonical = canonical_model_name(path.stem().string());
      if (!canonical || file_for(*canonical) != path) continue;
      if (auto e = stat_entry(*canonical, path, true)) by_name[*canonical] = *e;
    }
  }
  std::vector<ModelEntry> out;
  for (auto& [name, e] : by_name) out.push_back(std::move(e));
  return out;
}

Status DirectoryResolver::copy(std::string_view source, std::string_view destination) {
  if (models_dir_.empty()) return Status::unsupported("no models directory is configured (SOV_MODELS)");
  SOV_ASSIGN_OR_RETURN(ModelEntry src, resolve(source));
  if (destination.find('/') != std::string_view::npos) {
    return Status::invalid_argument("the destination must be a model name, not a path");
  }
  SOV_ASSIGN_OR_RETURN(std::string dst_name, canonical_model_name(destination));
  fs::path dst = file_for(dst_name);
  if (fs::path(src.path) == dst) return Status::ok();
  fs::path tmp = dst;
  tmp += ".partial";
  std::error_code ec;
  fs::remove(tmp, ec);
  // A hard link costs nothing; fall back to a copy across file systems.
  fs::create_hard_link(src.path, tmp, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(src.path, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::io_error(fmt::format("copying model \"{}\": {}", source, ec.message()));
  }
  fs::rename(tmp, dst, ec);  // atomic: a loaded model keeps its old mapping
  if (ec) {
    fs::remove(tmp, ec);
    return Status::io_error(fmt::format("copying model \"{}\": {}", source, ec.message()));
  }
  return Status::ok();
}

Status DirectoryResolver::remove(std::string_view name) {
  SOV_ASSIGN_OR_RETURN(ModelEntry e, resolve(name));
  if (!e.in_models_dir) {
    return Status::invalid_argument(fmt::format(
        "model \"{}\" is a file given on the command line; only models in the models directory can be "
        "deleted",
        name));
  }
  std::error_code ec;
  fs::remove(e.path, ec);
  if (ec) return Status::io_error(fmt::format("deleting model \"{}\": {}", name, ec.message()));
  return Status::ok();
}

}  // namespace sov::server
