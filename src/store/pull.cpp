// Store::pull: manifest from the registry, then every missing blob (download.h), then the
// manifest written last, so a pull that fails or is cancelled never leaves a name behind.
#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "store/download.h"
#include "store/fs_util.h"
#include "store/registry.h"
#include "store/store.h"

namespace sov::store {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `fn` until it succeeds or fails for a reason other than kIoError.
template <typename Fn>
auto with_retries(const PullOptions& o, const std::function<bool()>& cancelled, Fn fn) -> decltype(fn()) {
  for (int failures = 0;; ++failures) {
    auto r = fn();
    if (r.is_ok() || r.status().code() != ErrorCode::kIoError || failures >= o.max_retries) return r;
    const int64_t wait_ms = std::min<int64_t>(int64_t{o.retry_backoff_ms} << std::min(failures, 20), 30000);
    log::warn("{}; retrying in {} ms", r.status().message(), wait_ms);
    const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
    while (Clock::now() < until) {
      if (cancelled()) return Status::cancelled("pull cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 20)));
    }
  }
}

}  // namespace

Status Store::pull(std::string_view text, const PullOptions& o, const ProgressFn& progress,
                   const std::atomic<bool>* cancel) {
  SOV_ASSIGN_OR_RETURN(ModelName name, parse_model_name(text));
  std::function<bool()> cancelled = [cancel] { return cancel != nullptr && cancel->load(); };
  std::mutex emit_mu;
  auto emit = [&](const Progress& p) {
    std::lock_guard<std::mutex> lock(emit_mu);
    if (progress) progress(p);
  };

  const std::string& override_url = o.registry.empty() ? options_.registry : o.registry;
  SOV_ASSIGN_OR_RETURN(std::string base, registry_base_url(name, override_url, o.insecure));
  RegistrySettings settings;
  settings.insecure = o.insecure;
  settings.connect_timeout_ms = o.connect_timeout_ms;
  settings.stall_timeout_ms = o.stall_timeout_ms;
  settings.cancelled = cancelled;
  RegistryClient client(base, name, settings);

  emit(status_event("pulling manifest"));
  auto fetched = with_retries(o, cancelled, [&] { return client.fetch_manifest(); });
  if (!fetched) return fetched.status();
  const std::string manifest_text = std::move(fetched).value();
  auto parsed = parse_manifest(manifest_text);
  if (!parsed) {
    return Status::corrupt(fmt::format("the registry sent an invalid manifest for {}: {}", name.display(),
                                       parsed.status().message()));
  }
  const Manifest& manifest = *parsed;
  if (!manifest.find(kMediaModel)) {
    return Status::unsupported(
        fmt::format("{} has no GGUF model layer; it is not a model Sovereign can run", name.display()));
  }

  SOV_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  // Held until the manifest is written, so garbage collection cannot take our fresh blobs.
  SOV_ASSIGN_OR_RETURN(FileLock store_lock,
                       FileLock::acquire(lock_path(), FileLock::Mode::kShared, cancelled));

  std::vector<Layer> layers = manifest.layers;
  layers.push_back(manifest.config);

  // Disk space for everything not already here (or in a read-only store).
  uint64_t needed = 0;
  for (const auto& l : layers) {
    if (has_blob(l.digest)) continue;
    needed += l.size - std::min(l.size, partial_bytes(blobs_dir(), l));
  }
  auto free_space = o.free_space ? o.free_space(blobs_dir()) : free_disk_space(blobs_dir());
  if (!free_space) return free_space.status();
  if (*free_space < needed) {
    return Status::resource_exhausted(fmt::format(
        "not enough disk space to pull {}: {:.2f} GB more are needed but {:.2f} GB are free in {}",
        name.display(), static_cast<double>(needed) / 1e9, static_cast<double>(*free_space) / 1e9,
        blobs_dir()));
  }

  DownloadSettings dl;
  dl.part_size = o.part_size;
  dl.max_parallel = o.max_parallel;
  dl.max_retries = o.max_retries;
  dl.retry_backoff_ms = o.retry_backoff_ms;
  dl.cancelled = cancelled;
  for (const auto& l : layers) {
    const std::string status = "pulling " + l.digest.short_id();
    if (has_blob(l.digest)) {
      Status s = ensure_blob_local(l.digest, l.size);
      if (s.is_ok()) {
        emit({status, l.digest.str(), l.size, l.size});
        continue;
      }
      // A blob of the wrong size in a read-only store: download a good one.
      log::warn("{}", s.message());
    }
    // At most every 100 ms or 1% of the blob, and always the end.
    Clock::time_point last_emit{};
    uint64_t last_done = 0;
    auto on_progress = [&](uint64_t done) {
      const auto now = Clock::now();
      const bool step = done - std::min(done, last_done) >= l.size / 100;
      if (done < l.size && !step && now - last_emit < std::chrono::milliseconds(100)) return;
      last_emit = now;
      last_done = done;
      emit({status, l.digest.str(), l.size, done});
    };
    Status s = download_blob(client, blobs_dir(), l, dl, on_progress);
    if (!s) {
      if (s.code() == ErrorCode::kCancelled)
        return Status::cancelled("pull cancelled; run it again to resume");
      return s.with_context("pulling " + name.display());
    }
    emit({status, l.digest.str(), l.size, l.size});
  }
  emit(status_event("verifying sha256 digest"));
  emit(status_event("writing manifest"));
  SOV_RETURN_IF_ERROR(write_manifest(name, manifest_text));
  emit(status_event("success"));
  return Status::ok();
}

}  // namespace sov::store
