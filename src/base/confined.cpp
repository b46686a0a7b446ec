#include "base/confined.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>

#include "fmt/format.h"

namespace sov {
namespace {

// Result frame written by the child: 8 bytes of resident memory at the start (sent first, so
// the parent can measure growth), then 1 byte error code, 8 bytes length, the payload (the
// value, or the error message).
constexpr size_t kHeader = 8;
constexpr size_t kFrameHead = 1 + 8;

size_t resident_bytes(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long size = 0, resident = 0;
  if (std::sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void child_main(int out, const std::function<Result<std::string>()>& work) {
  // Reset what the server set up for itself: our signal handlers, the blocked mask.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);  // the parent gave up: write fails, we leave
  sigset_t none;
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
  // Other connections' sockets, files and pipes are none of this child's business.
  if (out > 3) ::close_range(3, static_cast<unsigned>(out) - 1, 0);
  ::close_range(static_cast<unsigned>(out) + 1, ~0U, 0);

  uint64_t start = resident_bytes(::getpid());
  if (!write_all(out, &start, sizeof start)) ::_exit(1);
  Status status;
  std::string value;
  try {
    Result<std::string> r = work();
    if (r) {
      value = std::move(*r);
    } else {
      status = r.status();
    }
  } catch (const std::exception& e) {
    status = Status::internal(e.what());
  } catch (...) {
    status = Status::internal("unknown exception");
  }
  const std::string& payload = status.is_ok() ? value : status.message();
  uint8_t code = static_cast<uint8_t>(status.code());
  uint64_t size = payload.size();
  bool ok = write_all(out, &code, 1) && write_all(out, &size, sizeof size) &&
            write_all(out, payload.data(), payload.size());
  ::_exit(ok ? 0 : 1);
}

}  // namespace

Result<std::string> run_confined(const std::string& what, const std::function<Result<std::string>()>& work,
                                 const ConfineLimits& limits) {
  // One confined call at a time: a concurrent call's parent side allocates (result buffers,
  // strings) while this one forks, and an allocator that fork does not make consistent (the
  // sanitizers' ones) then leaves its lock held in the child, which hangs until the time
  // limit (seen under ASan in Confined.ConcurrentCallsGetTheirOwnResults, 1 run in 3).
  static std::mutex one_at_a_time;
  std::lock_guard lock(one_at_a_time);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::io_error(what + ": pipe: " + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::resource_exhausted(what + ": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::close(fds[0]);
    child_main(fds[1], work);
  }
  ::close(fds[1]);
  const int in = fds[0];

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  std::string buf;
  std::string limit_hit;  // set when we kill the child
  bool eof = false;
  auto frame_complete = [&] {
    if (buf.size() < kHeader + kFrameHead) return false;
    uint64_t size;
    std::memcpy(&size, buf.data() + kHeader + 1, sizeof size);
    return buf.size() >= kHeader + kFrameHead + size;
  };
  while (!eof && !frame_complete()) {
    pollfd p{in, POLLIN, 0};
    int r = ::poll(&p, 1, 20);
    if (r > 0) {
      char chunk[65536];
      ssize_t n = ::read(in, chunk, sizeof chunk);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        eof = true;
      }
    }
    if (buf.size() > kHeader + kFrameHead + limits.max_result_bytes) {
      limit_hit = fmt::format("{}: result larger than {} MiB", what, limits.max_result_bytes >> 20);
    } else if (buf.size() >= kHeader) {
      uint64_t start;
      std::memcpy(&start, buf.data(), sizeof start);
      size_t now = resident_bytes(pid);
      if (now > start && now - start > limits.max_memory_bytes) {
        limit_hit = fmt::format("{}: needs more than {} MiB of memory", what, limits.max_memory_bytes >> 20);
      }
    }
    if (limit_hit.empty() && Clock::now() > deadline) {
      limit_hit = fmt::format("{}: took longer than {} s", what, limits.timeout_ms / 1000.0);
    }
    if (!limit_hit.empty()) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  ::close(in);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!limit_hit.empty()) return Status::resource_exhausted(limit_hit);
  if (WIFSIGNALED(wstatus)) {
    return Status::internal(fmt::format("{}: crashed ({})", what, ::strsignal(WTERMSIG(wstatus))));
  }
  if (!frame_complete()) return Status::internal(what + ": ended without a result");
  uint8_t code = static_cast<uint8_t>(buf[kHeader]);
  std::string payload = buf.substr(kHeader + kFrameHead);
  if (code == 0) return payload;
  return Status(static_cast<ErrorCode>(code), std::move(payload));
}

}  // namespace sov
