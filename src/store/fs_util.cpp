#include "store/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "store/name.h"

namespace sov::store {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status make_dirs(const std::string& path) {
  if (path.empty()) return Status::invalid_argument("empty directory path");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::ok();
    return Status::io_error(path + ": exists and is not a directory");
  }
  const std::string parent = parent_of(path);
  if (parent != path && parent != "/" && parent != ".") SOV_RETURN_IF_ERROR(make_dirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::io_error(path + ": cannot create directory: " + errno_text());
  }
  return Status::ok();
}

std::string unique_temp_name(const std::string& dir, std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return dir + "/." + std::string(prefix) + ".tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rng() % 1000000007ull);
}

Status write_file_atomic_unique(const std::string& path, std::string_view data) {
  const std::string dir = parent_of(path);
  size_t slash = path.rfind('/');
  const std::string tmp = unique_temp_name(dir, slash == std::string::npos ? path : path.substr(slash + 1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(tmp + ": cannot create: " + errno_text());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::io_error(tmp + ": write failed: " + errno_text());
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = Status::io_error(tmp + ": flush failed: " + errno_text());
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::io_error(path + ": rename failed: " + errno_text());
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::ok();
}

Result<std::string> read_small_file(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::not_found(path + ": not found");
    return Status::io_error(path + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::io_error(path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::out_of_range(path + ": larger than expected");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

FileLock::~FileLock() {
  release();
}

FileLock::FileLock(FileLock&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), remove_on_release_(o.remove_on_release_) {
  o.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    remove_on_release_ = o.remove_on_release_;
    o.fd_ = -1;
  }
  return *this;
}

void FileLock::release() {
  if (fd_ < 0) return;
  if (remove_on_release_) ::unlink(path_.c_str());  // while still holding it: waiters re-check
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

namespace {

// One attempt: 1 = locked (fd kept in *out), 0 = busy, or an error.
Result<int> lock_once(const std::string& path, FileLock::Mode mode, bool remove_on_release, int* out_fd) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(path + ": cannot open lock file: " + errno_text());
  const int op = (mode == FileLock::Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  if (::flock(fd, op) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK || err == EINTR) return 0;
    return Status::io_error(path + ": flock failed: " + std::strerror(err));
  }
  if (remove_on_release) {
    // The previous holder may have deleted the file after we opened it.
    struct stat a {
    }, b{};
    if (::fstat(fd, &a) != 0 || ::stat(path.c_str(), &b) != 0 || a.st_ino != b.st_ino ||
        a.st_dev != b.st_dev) {
      ::close(fd);
      return 0;
    }
  }
  *out_fd = fd;
  return 1;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode, const std::function<bool()>& cancelled,
                                   bool remove_on_release) {
  for (int spin = 0;; ++spin) {
    int fd = -1;
    SOV_ASSIGN_OR_RETURN(int got, lock_once(path, mode, remove_on_release, &fd));
    if (got == 1) {
      FileLock lock;
      lock.fd_ = fd;
      lock.path_ = path;
      lock.remove_on_release_ = remove_on_release;
      return lock;
    }
    if (cancelled && cancelled()) return Status::cancelled("cancelled while waiting for " + path);
    std::this_thread::sleep_for(std::chrono::milliseconds(spin < 20 ? 5 : 50));
  }
}

Result<std::optional<FileLock>> FileLock::try_acquire(const std::string& path, Mode mode) {
  int fd = -1;
  SOV_ASSIGN_OR_RETURN(int got, lock_once(path, mode, false, &fd));
  if (got == 0) return std::optional<FileLock>();
  FileLock lock;
  lock.fd_ = fd;
  lock.path_ = path;
  return std::optional<FileLock>(std::move(lock));
}

Result<uint64_t> free_disk_space(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return Status::io_error(path + ": statvfs failed: " + errno_text());
  return static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

bool is_regular_file(const std::string& path, uint64_t* size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size) *size = static_cast<uint64_t>(st.st_size);
  return true;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> find_path_fold(const std::string& base,
                                          const std::vector<std::string>& components) {
  std::string path = base;
  for (const auto& c : components) {
    std::string exact = path + "/" + c;
    struct stat st {};
    if (::lstat(exact.c_str(), &st) == 0) {
      path = std::move(exact);
      continue;
    }
    std::optional<std::string> match;
    for (const auto& entry : list_dir(path)) {
      if (equals_fold(entry, c)) {
        match = path + "/" + entry;
        break;
      }
    }
    if (!match) return std::nullopt;
    path = std::move(*match);
  }
  return path;
}

}  // namespace sov::store
