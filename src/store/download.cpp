#include "store/download.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/log.h"
#include "store/fs_util.h"

namespace sov::store {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kSaveEveryBytes = 8u << 20;
constexpr auto kSaveEvery = std::chrono::seconds(1);
constexpr size_t kMaxParts = 1u << 16;

struct Part {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t done = 0;
};

std::vector<Part> fresh_parts(uint64_t size, uint64_t part_size) {
  std::vector<Part> parts;
  if (part_size == 0) part_size = size;
  // Never more than kMaxParts parts, however small part_size is.
  part_size = std::max<uint64_t>(part_size, (size + kMaxParts - 1) / kMaxParts);
  for (uint64_t off = 0; off < size; off += part_size)
    parts.push_back({off, std::min(part_size, size - off), 0});
  return parts;
}

std::optional<std::vector<Part>> load_state(const std::string& path, const Layer& layer) {
  auto text = read_small_file(path, 8u << 20);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto digest = j.find("digest");
  auto size = j.find("size");
  auto parts = j.find("parts");
  if (digest == j.end() || !digest->is_string() || digest->get<std::string>() != layer.digest.str())
    return std::nullopt;
  if (size == j.end() || !size->is_number_unsigned() || size->get<uint64_t>() != layer.size)
    return std::nullopt;
  if (parts == j.end() || !parts->is_array() || parts->size() > kMaxParts) return std::nullopt;
  std::vector<Part> out;
  uint64_t expect = 0;
  for (const auto& p : *parts) {
    if (!p.is_array() || p.size() != 3) return std::nullopt;
    for (const auto& v : p) {
      if (!v.is_number_unsigned()) return std::nullopt;
    }
    Part part{p[0].get<uint64_t>(), p[1].get<uint64_t>(), p[2].get<uint64_t>()};
    if (part.offset != expect || part.size == 0 || part.size > layer.size - part.offset ||
        part.done > part.size) {
      return std::nullopt;
    }
    expect += part.size;
    out.push_back(part);
  }
  if (expect != layer.size) return std::nullopt;
  return out;
}

std::string state_json(const Layer& layer, const std::vector<Part>& parts) {
  nlohmann::json j;
  j["digest"] = layer.digest.str();
  j["size"] = layer.size;
  j["parts"] = nlohmann::json::array();
  for (const auto& p : parts) j["parts"].push_back({p.offset, p.size, p.done});
  return j.dump();
}

// "bytes a-b/total": first byte and total ("*" gives nullopt total).
bool parse_content_range(const std::string& h, uint64_t* first, std::optional<uint64_t>* total) {
  if (!h.starts_with("bytes ")) return false;
  size_t dash = h.find('-', 6), slash = h.find('/', 6);
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return false;
  try {
    *first = std::stoull(h.substr(6, dash - 6));
    std::string t = h.substr(slash + 1);
    if (t == "*") {
      *total = std::nullopt;
    } else {
      *total = std::stoull(t);
    }
  } catch (...) {
    return false;
  }
  return true;
}

class BlobDownload {
 public:
  BlobDownload(RegistryClient& client, std::string blobs_dir, const Layer& layer,
               const DownloadSettings& settings, const std::function<void(uint64_t)>& on_progress)
      : client_(client),
        layer_(layer),
        settings_(settings),
        on_progress_(on_progress),
        final_(blobs_dir + "/" + layer.digest.file_name()),
        partial_(final_ + "-partial"),
        state_path_(partial_ + ".json") {}

  Status run() {
    auto cancelled = [this] { return user_cancelled(); };
    SOV_ASSIGN_OR_RETURN(FileLock lock,
                         FileLock::acquire(partial_ + ".lock", FileLock::Mode::kExclusive, cancelled,
                                           /*remove_on_release=*/true));
    uint64_t have = 0;
    if (is_regular_file(final_, &have) && have == layer_.size) {  // another pull finished it
      report(layer_.size);
      return Status::ok();
    }
    fd_ = ::open(partial_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::io_error(partial_ + ": cannot open: " + std::strerror(errno));
    Status s = download_and_install();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return s;
  }

 private:
  bool user_cancelled() const { return settings_.cancelled && settings_.cancelled(); }
  bool stopping() const { return stop_.load() || user_cancelled(); }

  void report(uint64_t done) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    if (on_progress_) on_progress_(done);
  }

  Status reset_file(std::vector<Part> parts) {
    parts_ = std::move(parts);
    if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, static_cast<off_t>(layer_.size)) != 0) {
      return Status::io_error(partial_ + ": cannot size file: " + std::strerror(errno));
    }
    return Status::ok();
  }

  Status download_and_install() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return Status::io_error(partial_ + ": " + std::strerror(errno));
    auto saved = load_state(state_path_, layer_);
    if (saved && static_cast<uint64_t>(st.st_size) == layer_.size) {
      parts_ = std::move(*saved);
    } else {
      SOV_RETURN_IF_ERROR(reset_file(fresh_parts(layer_.size, settings_.part_size)));
    }
    uint64_t done = 0;
    for (const auto& p : parts_) done += p.done;
    done_ = done;
    if (done > 0) log::info("resuming {} at {} of {} bytes", layer_.digest.short_id(), done, layer_.size);
    report(done_);

    Status s = fetch_all();
    if (s.code() == ErrorCode::kUnsupported && !single_stream_) {
      // The registry ignores byte ranges: start over as one stream from byte 0.
      log::warn("registry ignores byte ranges; downloading {} in one piece", layer_.digest.short_id());
      single_stream_ = true;
      stop_ = false;
      first_error_ = Status::ok();
      SOV_RETURN_IF_ERROR(reset_file({{0, layer_.size, 0}}));
      done_ = 0;
      report(0);
      s = fetch_all();
    }
    save_state();
    if (!s.is_ok()) {
      if (s.code() == ErrorCode::kCorrupt) discard();
      if (user_cancelled()) return Status::cancelled("pull cancelled; run it again to resume");
      return s;
    }

    auto digest = sha256_file(partial_);
    if (!digest) return digest.status();
    if (*digest != layer_.digest) {
      discard();
      return Status::corrupt(
          fmt::format("blob {} failed verification (its data hashes to {}); the download was "
                      "deleted, pull again",
                      layer_.digest.str(), digest->str()));
    }
    if (::fsync(fd_) != 0) return Status::io_error(partial_ + ": fsync failed: " + std::strerror(errno));
    if (::rename(partial_.c_str(), final_.c_str()) != 0) {
      return Status::io_error(final_ + ": rename failed: " + std::strerror(errno));
    }
    ::unlink(state_path_.c_str());
    return Status::ok();
  }

  void discard() {
    ::unlink(partial_.c_str());
    ::unlink(state_path_.c_str());
  }

  Status fetch_all() {
    std::vector<size_t> todo;
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (parts_[i].done < parts_[i].size) todo.push_back(i);
    }
    const size_t n_workers = std::min<size_t>(
        todo.size(), static_cast<size_t>(std::max(1, single_stream_ ? 1 : settings_.max_parallel)));
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (;;) {
        size_t k = next.fetch_add(1);
        if (k >= todo.size() || stopping()) return;
        Status s = fetch_part(todo[k]);
        if (!s.is_ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          // The first real failure wins over the cancellations it causes in other parts.
          const bool caused_by_other = s.code() == ErrorCode::kCancelled && stop_.load();
          if (first_error_.is_ok() && !caused_by_other) first_error_ = s;
          stop_ = true;
          return;
        }
      }
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n_workers; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (user_cancelled()) return Status::cancelled("cancelled");
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

  // One part, retried with backoff while it fails for transport reasons.
  Status fetch_part(size_t idx) {
    int failures = 0;
    bool reset_once = false;
    for (;;) {
      bool progressed = false;
      Status s = attempt(idx, &progressed);
      if (s.is_ok()) return s;
      if (stopping()) return Status::cancelled("cancelled");
      if (progressed) failures = 0;
      if (s.code() == ErrorCode::kOutOfRange && !reset_once) {
        // 416: our saved offset is beyond what the server has; refetch the part.
        reset_once = true;
        std::lock_guard<std::mutex> lock(mu_);
        done_ -= parts_[idx].done;
        parts_[idx].done = 0;
        continue;
      }
      if (s.code() != ErrorCode::kIoError) return s;
      if (++failures > settings_.max_retries) {
        return s.with_context(fmt::format("blob {} after {} attempts", layer_.digest.short_id(), failures));
      }
      const int64_t wait_ms =
          std::min<int64_t>(int64_t{settings_.retry_backoff_ms} << std::min(failures - 1, 20), 30000);
      log::warn("blob {}: {}; retrying in {} ms", layer_.digest.short_id(), s.message(), wait_ms);
      const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
      while (Clock::now() < until) {
        if (stopping()) return Status::cancelled("cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 20)));
      }
    }
  }

  Status attempt(size_t idx, bool* progressed) {
    uint64_t first = 0, last = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = parts_[idx].offset + parts_[idx].done;
      last = parts_[idx].offset + parts_[idx].size - 1;
    }
    uint64_t pos = first;
    Status sink_status;
    HttpRequest req;
    req.cancelled = [this] { return stopping(); };
    req.on_headers = [&](long status, const std::map<std::string, std::string>& h) -> Status {
      auto header = [&](const char* k) {
        auto it = h.find(k);
        return it == h.end() ? std::string() : it->second;
      };
      if (status == 206) {
        uint64_t got_first = 0;
        std::optional<uint64_t> total;
        if (!parse_content_range(header("content-range"), &got_first, &total)) {
          return Status::corrupt("registry sent a partial response without a valid Content-Range");
        }
        if (got_first != first) {
          return Status::corrupt(
              fmt::format("registry answered with bytes from {} instead of {}", got_first, first));
        }
        if (total && *total != layer_.size) {
          return Status::corrupt(fmt::format("blob {} has {} bytes at the registry but {} in the manifest",
                                             layer_.digest.short_id(), *total, layer_.size));
        }
        return Status::ok();
      }
      if (status == 200) {
        if (first != 0 || last + 1 != layer_.size)
          return Status::unsupported("registry ignored the byte range");
        std::string length = header("content-length");
        if (!length.empty() && length != std::to_string(layer_.size)) {
          return Status::corrupt(fmt::format("blob {} has {} bytes at the registry but {} in the manifest",
                                             layer_.digest.short_id(), length, layer_.size));
        }
        return Status::ok();
      }
      return Status::corrupt(fmt::format("unexpected HTTP status {} for a blob", status));
    };
    BodySink sink = [&](const char* data, size_t n) {
      if (n > last + 1 - pos) {
        sink_status = Status::corrupt("registry sent more bytes than requested");
        return false;
      }
      size_t off = 0;
      while (off < n) {
        ssize_t w = ::pwrite(fd_, data + off, n - off, static_cast<off_t>(pos + off));
        if (w < 0) {
          if (errno == EINTR) continue;
          sink_status = Status::io_error(partial_ + ": write failed: " + std::strerror(errno));
          return false;
        }
        off += static_cast<size_t>(w);
      }
      pos += n;
      *progressed = true;
      uint64_t total = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        parts_[idx].done += n;
        done_ += n;
        total = done_;
        unsaved_ += n;
        if (unsaved_ >= kSaveEveryBytes || Clock::now() - last_save_ >= kSaveEvery) save_state_locked();
      }
      report(total);
      return true;
    };
    auto r = client_.get_blob(layer_.digest, first, last, req, sink, &sink_status);
    if (!r) return r.status();  // transport failures are kIoError (retried); sink errors keep their code
    const long status = r->status;
    if (status == 200 || status == 206) {
      if (pos != last + 1) return Status::io_error("connection closed before the part was complete");
      return Status::ok();
    }
    if (status == 404) {
      return Status::not_found(fmt::format("blob {} not found in the registry", layer_.digest.str()));
    }
    if (status == 416) return Status::out_of_range("registry refused the byte range (416)");
    if (is_retryable_status(status)) return Status::io_error(fmt::format("registry answered {}", status));
    return Status::invalid_argument(
        fmt::format("registry answered {} for blob {}", status, layer_.digest.str()));
  }

  void save_state() {
    std::lock_guard<std::mutex> lock(mu_);
    save_state_locked();
  }

  // Data first, then the record of it, so the record never claims bytes not on disk.
  void save_state_locked() {
    unsaved_ = 0;
    last_save_ = Clock::now();
    if (::fdatasync(fd_) != 0) return;
    Status s = write_file_atomic_unique(state_path_, state_json(layer_, parts_));
    if (!s) log::warn("{}", s.message());
  }

  RegistryClient& client_;
  const Layer& layer_;
  const DownloadSettings& settings_;
  const std::function<void(uint64_t)>& on_progress_;
  const std::string final_;
  const std::string partial_;
  const std::string state_path_;
  int fd_ = -1;
  bool single_stream_ = false;

  std::mutex mu_;  // parts_, done_, unsaved_, last_save_, first_error_
  std::vector<Part> parts_;
  uint64_t done_ = 0;
  uint64_t unsaved_ = 0;
  Clock::time_point last_save_ = Clock::now();
  Status first_error_;
  std::atomic<bool> stop_{false};
  std::mutex progress_mu_;
};

}  // namespace

uint64_t partial_bytes(const std::string& blobs_dir, const Layer& layer) {
  const std::string partial = blobs_dir + "/" + layer.digest.file_name() + "-partial";
  uint64_t size = 0;
  if (!is_regular_file(partial, &size) || size != layer.size) return 0;
  auto parts = load_state(partial + ".json", layer);
  if (!parts) return 0;
  uint64_t done = 0;
  for (const auto& p : *parts) done += p.done;
  return done;
}

Status download_blob(RegistryClient& client, const std::string& blobs_dir, const Layer& layer,
                     const DownloadSettings& settings, const std::function<void(uint64_t)>& on_progress) {
  BlobDownload d(client, blobs_dir, layer, settings, on_progress);
  return d.run();
}

}  // namespace sov::store
