// File-system helpers of the model store: atomic writes with unique temporary names (many
// processes may write the same manifest at once), advisory locks (flock) that can be
// abandoned when the caller cancels, case-insensitive lookup of path components (names
// compare case-insensitively, as in Ollama), and free-space queries.
//
// Callers pass only paths built from validated names and digests. Thread-safe (no shared
// state); locks are per open file description, so they also exclude other threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::store {

// Creates a directory and its parents (mode 0755); ok when it exists.
Status make_dirs(const std::string& path);

// Writes `data` to a unique temporary file beside `path`, fsyncs it and renames it over
// `path`, so readers see the old file or the whole new one, never a part.
Status write_file_atomic_unique(const std::string& path, std::string_view data);

// Reads a whole file of at most `max_bytes`; kOutOfRange when larger.
Result<std::string> read_small_file(const std::string& path, uint64_t max_bytes);

// A unique temporary file name in `dir` (".<prefix>.tmp-<pid>-<counter>-<random>"; the
// leading dot keeps it from ever parsing as a tag or a blob name).
std::string unique_temp_name(const std::string& dir, std::string_view prefix);

// An flock() held on a lock file until destroyed.
class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  FileLock() = default;
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Waits for the lock, polling `cancelled` (kCancelled when it becomes true). The lock file
  // is created when missing. If `remove_on_release`, the holder deletes the file when it
  // releases it; acquire() then re-checks that the file it locked is still the one on
  // disk, so a waiter never holds a lock on a deleted file.
  static Result<FileLock> acquire(const std::string& path, Mode mode, const std::function<bool()>& cancelled,
                                  bool remove_on_release = false);
  // Returns nullopt instead of waiting when someone else holds it.
  static Result<std::optional<FileLock>> try_acquire(const std::string& path, Mode mode);

  bool held() const { return fd_ >= 0; }
  void release();

 private:
  int fd_ = -1;
  std::string path_;
  bool remove_on_release_ = false;
};

// Bytes available to an unprivileged user on the file system holding `path`.
Result<uint64_t> free_disk_space(const std::string& path);

// Finds `components` below `base`, each matched exactly or else case-insensitively.
// Returns the full path of the existing entry, or nullopt.
std::optional<std::string> find_path_fold(const std::string& base,
                                          const std::vector<std::string>& components);

// Names of the entries of a directory (empty when it does not exist).
std::vector<std::string> list_dir(const std::string& path);

bool is_regular_file(const std::string& path, uint64_t* size = nullptr);
bool is_directory(const std::string& path);

}  // namespace sov::store
