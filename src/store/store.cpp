#include "store/store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "base/log.h"
#include "store/fs_util.h"
#include "store/params.h"

namespace sov::store {
namespace {

constexpr uint64_t kMaxSmallLayerBytes = 32u << 20;
constexpr auto kPartialLifetime = std::chrono::hours(24);

std::chrono::system_clock::time_point mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                               std::chrono::nanoseconds(st.st_mtim.tv_nsec));
}

bool is_blob_file_name(std::string_view n) {
  if (n.size() != 7 + 64 || !n.starts_with("sha256-")) return false;
  for (char c : n.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct ManifestFile {
  ModelName name;
  std::string path;
};

// Every <host>/<namespace>/<model>/<tag> file below `manifests` whose parts form a valid name.
std::vector<ManifestFile> walk_manifests(const std::string& manifests) {
  std::vector<ManifestFile> out;
  for (const auto& host : list_dir(manifests)) {
    const std::string h = manifests + "/" + host;
    if (!is_directory(h)) continue;
    for (const auto& ns : list_dir(h)) {
      const std::string n = h + "/" + ns;
      if (!is_directory(n)) continue;
      for (const auto& model : list_dir(n)) {
        const std::string m = n + "/" + model;
        if (!is_directory(m)) continue;
        for (const auto& tag : list_dir(m)) {
          const std::string path = m + "/" + tag;
          if (!is_regular_file(path)) continue;
          auto name = parse_model_name(host + "/" + ns + "/" + model + ":" + tag);
          // Temporary files (".tag.tmp-...") and anything else that is not a name are skipped.
          if (!name || !equals_fold(name->host, host) || name->ns != ns || name->model != model ||
              name->tag != tag) {
            continue;
          }
          out.push_back({*name, path});
        }
      }
    }
  }
  return out;
}

// Every regular file below `dir` except hidden (temporary) ones, whatever its name: garbage
// collection must see manifests our name rules would not accept (a shared Ollama store).
void walk_all_files(const std::string& dir, int depth, std::vector<std::string>* out) {
  if (depth > 8) return;
  for (const auto& entry : list_dir(dir)) {
    if (entry.starts_with(".")) continue;
    const std::string path = dir + "/" + entry;
    if (is_directory(path)) {
      walk_all_files(path, depth + 1, out);
    } else if (is_regular_file(path)) {
      out->push_back(path);
    }
  }
}

class FileBlobWriter final : public BlobWriter {
 public:
  FileBlobWriter(std::string blobs_dir, std::string tmp, int fd, FileLock lock)
      : blobs_dir_(std::move(blobs_dir)), tmp_(std::move(tmp)), fd_(fd), lock_(std::move(lock)) {}
  ~FileBlobWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }

  Status write(const void* data, size_t n) override {
    if (committed_ || fd_ < 0) return Status::internal("blob writer already committed");
    const char* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(fd_, p + done, n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::io_error(tmp_ + ": write failed: " + std::strerror(errno));
      }
      done += static_cast<size_t>(w);
    }
    hash_.update(data, n);
    bytes_ += n;
    return Status::ok();
  }

  Result<Digest> commit(const Digest& expected) override {
    if (committed_ || fd_ < 0) return Status::internal("blob writer already committed");
    Digest got = hash_.finish();
    if (::fsync(fd_) != 0) return Status::io_error(tmp_ + ": fsync failed: " + std::strerror(errno));
    ::close(fd_);
    fd_ = -1;
    if (!expected.empty() && got != expected) {
      return Status::corrupt(
          fmt::format("blob digest mismatch: expected {}, got {}", expected.str(), got.str()));
    }
    const std::string final_path = blobs_dir_ + "/" + got.file_name();
    uint64_t have = 0;
    if (is_regular_file(final_path, &have) && have == bytes_) {
      return got;  // already present; the destructor removes the temporary copy
    }
    if (::rename(tmp_.c_str(), final_path.c_str()) != 0) {
      return Status::io_error(final_path + ": rename failed: " + std::strerror(errno));
    }
    committed_ = true;
    return got;
  }

  uint64_t bytes_written() const override { return bytes_; }

 private:
  std::string blobs_dir_;
  std::string tmp_;
  int fd_ = -1;
  Sha256 hash_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
  FileLock lock_;  // shared store lock: garbage collection waits for the upload
};

}  // namespace

Store::Store(StoreOptions options) : options_(std::move(options)) {
  while (options_.root.size() > 1 && options_.root.back() == '/') options_.root.pop_back();
}

std::vector<std::string> Store::roots() const {
  std::vector<std::string> r{options_.root};
  for (const auto& ro : options_.read_only_roots) {
    if (!ro.empty() && ro != options_.root) r.push_back(ro);
  }
  return r;
}

std::optional<std::string> Store::find_blob(const Digest& digest) const {
  if (digest.empty()) return std::nullopt;
  for (const auto& root : roots()) {
    std::string path = root + "/blobs/" + digest.file_name();
    if (is_regular_file(path)) return path;
  }
  return std::nullopt;
}

Result<std::optional<Store::Found>> Store::find_manifest(const ModelName& name) const {
  const auto r = roots();
  for (size_t i = 0; i < r.size(); ++i) {
    auto path = find_path_fold(r[i] + "/manifests", {name.host, name.ns, name.model, name.tag});
    if (!path || !is_regular_file(*path)) continue;
    auto text = read_small_file(*path, kMaxManifestBytes);
    if (!text) return text.status().with_context("reading manifest of " + name.display());
    return std::optional<Found>(Found{i, *path, std::move(*text)});
  }
  return std::optional<Found>();
}

Result<ResolvedModel> Store::load(const ModelName& name, const Found& found) const {
  auto manifest = parse_manifest(found.text);
  if (!manifest) return Status::corrupt(fmt::format("{}: {}", found.path, manifest.status().message()));
  ResolvedModel m;
  m.name = name.display();
  m.full_name = name.full();
  m.digest = sha256_of(found.text).str();
  m.size = manifest->total_size();
  m.modified = mtime_of(found.path);
  m.read_only = found.root_index != 0;
  m.store_root = roots()[found.root_index];

  const Layer* model = manifest->find(kMediaModel);
  if (!model) return Status::unsupported(fmt::format("model \"{}\" has no GGUF model layer", m.name));
  auto blob = find_blob(model->digest);
  uint64_t blob_size = 0;
  if (!blob || !is_regular_file(*blob, &blob_size) || blob_size != model->size) {
    return Status::not_found(
        fmt::format("model \"{}\" is incomplete: its weights blob {} is missing; pull it again", m.name,
                    model->digest.str()));
  }
  m.gguf_path = *blob;
  m.model_digest = model->digest.str();

  auto read_layer = [&](const Layer& layer) -> Result<std::string> {
    auto path = find_blob(layer.digest);
    if (!path)
      return Status::not_found(fmt::format("model \"{}\": blob {} is missing", m.name, layer.digest.str()));
    SOV_ASSIGN_OR_RETURN(std::string text, read_small_file(*path, kMaxSmallLayerBytes));
    if (sha256_of(text) != layer.digest) {
      return Status::corrupt(
          fmt::format("model \"{}\": blob {} does not match its digest", m.name, layer.digest.str()));
    }
    return text;
  };
  for (const auto& layer : manifest->layers) {
    const std::string& type = layer.media_type;
    if (type == kMediaTemplate) {
      SOV_ASSIGN_OR_RETURN(m.template_text, read_layer(layer));
    } else if (type == kMediaSystem) {
      SOV_ASSIGN_OR_RETURN(m.system, read_layer(layer));
    } else if (type == kMediaLicense) {
      SOV_ASSIGN_OR_RETURN(std::string text, read_layer(layer));
      m.licenses.push_back(std::move(text));
    } else if (type == kMediaParams) {
      SOV_ASSIGN_OR_RETURN(std::string text, read_layer(layer));
      auto j = nlohmann::ordered_json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return Status::corrupt(
            fmt::format("model \"{}\": the parameters layer is not a JSON object", m.name));
      }
      m.params = std::move(j);
    } else if (type == kMediaMessages) {
      SOV_ASSIGN_OR_RETURN(std::string text, read_layer(layer));
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_array()) {
        return Status::corrupt(fmt::format("model \"{}\": the messages layer is not a JSON array", m.name));
      }
      for (const auto& msg : j) {
        if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string() ||
            !msg.contains("content") || !msg["content"].is_string()) {
          return Status::corrupt(
              fmt::format("model \"{}\": malformed message in the messages layer", m.name));
        }
        m.messages.push_back({msg["role"].get<std::string>(), msg["content"].get<std::string>()});
      }
    }
  }
  return m;
}

Result<ResolvedModel> Store::resolve(std::string_view text) const {
  SOV_ASSIGN_OR_RETURN(ModelName name, parse_model_name(text));
  SOV_ASSIGN_OR_RETURN(std::optional<Found> found, find_manifest(name));
  if (!found)
    return Status::not_found(fmt::format("model \"{}\" not found; try `sov pull {}`", name.display(), text));
  return load(name, *found);
}

Result<ResolvedModel> Store::resolve_name_or_path(std::string_view text) const {
  std::string path(text);
  uint64_t size = 0;
  const bool exists = is_regular_file(path, &size);
  if (looks_like_path(text) ||
      (exists && path.size() > 5 && equals_fold(path.substr(path.size() - 5), ".gguf"))) {
    if (!exists) return Status::not_found(path + ": no such file");
    ResolvedModel m;
    m.name = path;
    m.gguf_path = path;
    m.size = size;
    m.modified = mtime_of(path);
    m.is_file = true;
    m.read_only = true;
    return m;
  }
  return resolve(text);
}

Result<std::vector<ListedModel>> Store::list() const {
  std::vector<ListedModel> out;
  std::set<std::string> seen;  // lowercase full names: the first root wins
  const auto r = roots();
  for (size_t i = 0; i < r.size(); ++i) {
    for (auto& mf : walk_manifests(r[i] + "/manifests")) {
      std::string key = mf.name.full();
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!seen.insert(key).second) continue;
      auto text = read_small_file(mf.path, kMaxManifestBytes);
      if (!text) continue;
      auto manifest = parse_manifest(*text);
      if (!manifest) {
        log::warn("skipping {}: {}", mf.path, manifest.status().message());
        continue;
      }
      ListedModel m;
      m.name = mf.name.display();
      m.full_name = mf.name.full();
      m.digest = sha256_of(*text).str();
      m.size = manifest->total_size();
      m.modified = mtime_of(mf.path);
      m.read_only = i != 0;
      m.store_root = r[i];
      if (const Layer* model = manifest->find(kMediaModel))
        m.gguf_path = find_blob(model->digest).value_or("");
      out.push_back(std::move(m));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ListedModel& a, const ListedModel& b) { return a.name < b.name; });
  return out;
}

Status Store::write_manifest(const ModelName& name, std::string_view text) {
  // Reuse directories that differ only in case, so names stay case-insensitive.
  std::string dir = manifests_dir();
  SOV_RETURN_IF_ERROR(make_dirs(dir));
  const std::string parts[] = {name.host, name.ns, name.model};
  for (const auto& part : parts) {
    auto existing = find_path_fold(dir, {part});
    dir = existing ? *existing : dir + "/" + part;
    SOV_RETURN_IF_ERROR(make_dirs(dir));
  }
  auto existing = find_path_fold(dir, {name.tag});
  return write_file_atomic_unique(existing ? *existing : dir + "/" + name.tag, text);
}

Result<std::unique_ptr<BlobWriter>> Store::begin_blob() {
  SOV_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  SOV_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(lock_path(), FileLock::Mode::kShared, nullptr));
  std::string tmp = unique_temp_name(blobs_dir(), "upload");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(tmp + ": cannot create: " + std::strerror(errno));
  return std::unique_ptr<BlobWriter>(new FileBlobWriter(blobs_dir(), tmp, fd, std::move(lock)));
}

Result<Digest> Store::put_blob_bytes(std::string_view bytes) {
  SOV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> w, begin_blob());
  SOV_RETURN_IF_ERROR(w->write(bytes.data(), bytes.size()));
  return w->commit(Digest());
}

Status Store::ensure_blob_local(const Digest& digest, uint64_t size) {
  const std::string local = blobs_dir() + "/" + digest.file_name();
  uint64_t have = 0;
  if (is_regular_file(local, &have) && have == size) return Status::ok();
  std::optional<std::string> source;
  for (const auto& root : roots()) {
    if (root == options_.root) continue;
    std::string p = root + "/blobs/" + digest.file_name();
    if (is_regular_file(p, &have) && have == size) {
      source = p;
      break;
    }
  }
  if (!source) return Status::not_found(fmt::format("blob {} is not in any store", digest.str()));
  SOV_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  // A hard link costs no space; across file systems (or without permission) copy and verify.
  const std::string tmp = unique_temp_name(blobs_dir(), "link");
  if (::link(source->c_str(), tmp.c_str()) == 0) {
    if (::rename(tmp.c_str(), local.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return Status::io_error(local + ": rename failed: " + std::strerror(errno));
    }
    return Status::ok();
  }
  int in = ::open(source->c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::io_error(*source + ": " + std::strerror(errno));
  SOV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> w, begin_blob());
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(in);
      return Status::io_error(*source + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    Status s = w->write(buf.data(), static_cast<size_t>(n));
    if (!s) {
      ::close(in);
      return s;
    }
  }
  ::close(in);
  return w->commit(digest).status();
}

Status Store::copy(std::string_view source, std::string_view destination) {
  SOV_ASSIGN_OR_RETURN(ModelName src, parse_model_name(source));
  SOV_ASSIGN_OR_RETURN(ModelName dst, parse_model_name(destination));
  SOV_ASSIGN_OR_RETURN(std::optional<Found> found, find_manifest(src));
  if (!found) return Status::not_found(fmt::format("model \"{}\" not found", src.display()));
  auto manifest = parse_manifest(found->text);
  if (!manifest) return Status::corrupt(fmt::format("{}: {}", found->path, manifest.status().message()));
  if (src.same_as(dst) && found->root_index == 0) return Status::ok();
  SOV_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  SOV_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(lock_path(), FileLock::Mode::kShared, nullptr));
  SOV_RETURN_IF_ERROR(ensure_blob_local(manifest->config.digest, manifest->config.size));
  for (const auto& l : manifest->layers) SOV_RETURN_IF_ERROR(ensure_blob_local(l.digest, l.size));
  return write_manifest(dst, found->text);
}

Status Store::remove(std::string_view text, GcResult* gc) {
  SOV_ASSIGN_OR_RETURN(ModelName name, parse_model_name(text));
  auto path = find_path_fold(manifests_dir(), {name.host, name.ns, name.model, name.tag});
  if (!path || !is_regular_file(*path)) {
    SOV_ASSIGN_OR_RETURN(std::optional<Found> elsewhere, find_manifest(name));
    if (elsewhere) {
      return Status::invalid_argument(
          fmt::format("model \"{}\" is in the read-only store {}; remove it there", name.display(),
                      roots()[elsewhere->root_index]));
    }
    return Status::not_found(fmt::format("model \"{}\" not found", name.display()));
  }
  if (::unlink(path->c_str()) != 0)
    return Status::io_error(*path + ": cannot delete: " + std::strerror(errno));
  // Drop directories left empty (tag's parent up to the host), best effort.
  std::string dir = *path;
  for (int i = 0; i < 3; ++i) {
    dir = dir.substr(0, dir.rfind('/'));
    if (::rmdir(dir.c_str()) != 0) break;
  }
  auto result = collect_garbage();
  if (!result) {
    log::warn("garbage collection skipped: {}", result.status().message());
    if (gc) gc->skipped = true;
  } else if (gc) {
    *gc = *result;
  }
  return Status::ok();
}

Result<GcResult> Store::collect_garbage() {
  GcResult result;
  if (!is_directory(blobs_dir())) return result;
  SOV_ASSIGN_OR_RETURN(std::optional<FileLock> lock,
                       FileLock::try_acquire(lock_path(), FileLock::Mode::kExclusive));
  if (!lock) {
    result.skipped = true;  // a pull or create is writing; its blobs are not referenced yet
    return result;
  }
  std::set<std::string> referenced;
  std::vector<std::string> manifest_files;
  walk_all_files(manifests_dir(), 0, &manifest_files);
  for (const auto& path : manifest_files) {
    auto text = read_small_file(path, kMaxManifestBytes);
    if (!text) return text.status().with_context("not collecting garbage");
    auto manifest = parse_manifest(*text);
    if (!manifest) {
      // It may reference blobs we cannot see; deleting anything would be a guess.
      return Status::corrupt(
          fmt::format("not collecting garbage: {}: {}", path, manifest.status().message()));
    }
    referenced.insert(manifest->config.digest.file_name());
    for (const auto& l : manifest->layers) referenced.insert(l.digest.file_name());
  }
  // No pull, create or upload runs while we hold the lock, so temporary files and lock
  // files are leftovers of crashed writers. Partial downloads are kept a day for a resume.
  const auto stale_before = std::chrono::system_clock::now() - kPartialLifetime;
  for (const auto& entry : list_dir(blobs_dir())) {
    const std::string path = blobs_dir() + "/" + entry;
    bool remove = false;
    if (is_blob_file_name(entry)) {
      remove = !referenced.count(entry);
    } else if (entry.starts_with(".") && entry.find(".tmp-") != std::string::npos) {
      remove = true;
    } else if (entry.starts_with("sha256-") && entry.ends_with("-partial.lock")) {
      remove = true;
    } else if (entry.starts_with("sha256-") &&
               (entry.ends_with("-partial") || entry.ends_with("-partial.json"))) {
      remove = mtime_of(path) < stale_before;
    }
    if (!remove) continue;
    uint64_t size = 0;
    is_regular_file(path, &size);
    if (::unlink(path.c_str()) == 0) {
      ++result.removed;
      result.bytes += size;
    }
  }
  return result;
}

Result<CreateRequest> create_request_from_modelfile(const Modelfile& mf, const std::string& base_dir) {
  CreateRequest r;
  r.from = mf.from;
  r.base_dir = base_dir;
  r.template_text = mf.template_text;
  r.system = mf.system;
  if (!mf.parameters.empty()) {
    SOV_ASSIGN_OR_RETURN(nlohmann::ordered_json params, params_from_text(mf.parameters));
    r.params = std::move(params);
  }
  if (!mf.messages.empty()) r.messages = mf.messages;
  if (!mf.licenses.empty()) r.licenses = mf.licenses;
  return r;
}

Modelfile modelfile_of(const ResolvedModel& m) {
  Modelfile mf;
  mf.from = m.gguf_path;
  if (!m.template_text.empty()) mf.template_text = m.template_text;
  if (!m.system.empty()) mf.system = m.system;
  mf.parameters = params_to_text(m.params);
  mf.messages = m.messages;
  mf.licenses = m.licenses;
  return mf;
}

}  // namespace sov::store
