#include "kb/watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

namespace sov::kb {
namespace {

constexpr size_t kMaxWatches = 16384;
constexpr uint32_t kMask = IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// Watches `dir` and every folder below it (version control internals excepted).
void watch_tree(int fd, const std::string& dir, size_t* count) {
  if (*count >= kMaxWatches) return;
  if (inotify_add_watch(fd, dir.c_str(), kMask | IN_ONLYDIR) >= 0) ++*count;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_directory(ec2) || it->is_symlink(ec2)) continue;
    std::string name = it->path().filename().string();
    if (name == ".git" || name == ".hg" || name == ".svn") continue;
    watch_tree(fd, it->path().string(), count);
  }
}

void watch_all(int fd, const std::vector<std::string>& roots) {
  size_t count = 0;
  for (const std::string& r : roots) {
    struct stat st;
    if (::stat(r.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      watch_tree(fd, r, &count);
    } else {
      std::string parent = std::filesystem::path(r).parent_path().string();
      if (inotify_add_watch(fd, parent.c_str(), kMask | IN_ONLYDIR) >= 0) ++count;
    }
  }
}

}  // namespace

Status watch_paths(KnowledgeBase& kb, const std::vector<std::string>& paths, Embedder* embedder,
                   const AddOptions& options, const std::function<void(const AddSummary&)>& on_pass,
                   const std::atomic<bool>& stop, int debounce_ms) {
  std::vector<std::string> roots;
  for (const std::string& p : paths) roots.push_back(normalise_path(p));
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Status::io_error(std::string("inotify: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  watch_all(fd, roots);  // before the first pass, so no change slips between the two

  auto pass = [&]() -> Status {
    auto summary = add_paths(kb, roots, embedder, options);
    if (!summary) return summary.status();
    if (on_pass) on_pass(*summary);
    return Status::ok();
  };
  SOV_RETURN_IF_ERROR(pass());

  using Clock = std::chrono::steady_clock;
  bool dirty = false;
  Clock::time_point last_event;
  alignas(struct inotify_event) char buf[16384];
  while (!stop.load()) {
    struct pollfd pfd {
      fd, POLLIN, 0
    };
    int rc = ::poll(&pfd, 1, 200);
    if (rc < 0 && errno != EINTR) return Status::io_error(std::string("poll: ") + std::strerror(errno));
    if (rc > 0) {
      while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        dirty = true;
        last_event = Clock::now();
      }
    }
    if (dirty && Clock::now() - last_event >= std::chrono::milliseconds(debounce_ms)) {
      dirty = false;
      watch_all(fd, roots);  // new folders; re-adding an existing watch is harmless
      SOV_RETURN_IF_ERROR(pass());
    }
  }
  return Status::ok();
}

}  // namespace sov::kb
