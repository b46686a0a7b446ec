#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace sov {

int physical_cores() {
  // Count distinct (physical id, core id) pairs from /proc/cpuinfo; fall back to
  // hardware_concurrency where that file is not there.
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<int, int>> cores;
  int phys = 0;
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    int value = std::atoi(line.c_str() + colon + 1);
    if (key == "physical id") phys = value;
    if (key == "core id") cores.insert({phys, value});
  }
  int n = static_cast<int>(cores.size());
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long a waiting thread spins before it sleeps: long enough to cover the gaps between
// the parallel loops of one forward pass (microseconds), short enough that an idle pool
// gives its cores back at once.
constexpr auto kSpin = std::chrono::microseconds(300);

// Spins until pred() holds or the spin budget is spent; true when pred() held.
template <typename Pred>
bool spin_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

constexpr int kIdxBits = 22, kCountBits = 22;
constexpr uint64_t kIdxMask = (uint64_t{1} << kIdxBits) - 1;
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
inline uint64_t pack(uint32_t job, uint64_t count, uint64_t idx) {
  return (static_cast<uint64_t>(job) << (kIdxBits + kCountBits)) | (count << kIdxBits) | idx;
}
inline uint32_t job_of(uint64_t v) {
  return static_cast<uint32_t>(v >> (kIdxBits + kCountBits));
}
inline uint64_t count_of(uint64_t v) {
  return (v >> kIdxBits) & kCountMask;
}
inline uint64_t idx_of(uint64_t v) {
  return v & kIdxMask;
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : physical_cores()) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(int thread) {
  uint64_t v = next_.load(std::memory_order_acquire);
  const uint32_t job = job_of(v);
  for (;;) {
    if (job_of(v) != job || idx_of(v) >= count_of(v)) return;
    if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    const uint64_t count = count_of(v);
    const size_t c = static_cast<size_t>(idx_of(v));
    call_.load(std::memory_order_relaxed)(fn_.load(std::memory_order_relaxed), bounds_[c], bounds_[c + 1],
                                          thread);
    v = next_.load(std::memory_order_acquire);
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == count &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      done_.notify_one();
    }
  }
}

void ThreadPool::run(size_t n, size_t grain, Trampoline call, void* fn) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  if (n_threads_ == 1 || n <= grain) {
    call(fn, 0, n, 0);
    return;
  }
  // Guided chunks, in blocks of `grain`: each takes 1/(2 * threads) of what is left, so the
  // first ones are long (one sequential stream per thread) and the last ones one block,
  // which lets the threads finish within a block of each other; a thread slowed down by the
  // OS is covered by the others. Every chunk holds at least two blocks while more remain,
  // and the last chunk takes the rest when the table is full.
  const size_t blocks = (n + grain - 1) / grain;
  const size_t divisor = 2 * static_cast<size_t>(n_threads_);
  uint64_t count = 0;
  size_t done_blocks = 0;
  while (done_blocks < blocks) {
    const size_t left = blocks - done_blocks;
    size_t take = std::max<size_t>(std::min<size_t>(2, left), left / divisor);
    if (count + 1 == kMaxChunks) take = left;
    bounds_[count++] = done_blocks * grain;
    done_blocks += take;
  }
  bounds_[count] = n;
  call_.store(call, std::memory_order_relaxed);
  fn_.store(fn, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  job_id_ = (job_id_ + 1) & ((1u << 20) - 1);
  next_.store(pack(job_id_, count, 0), std::memory_order_release);  // publishes the job
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();

  work(0);

  const auto all_done = [&] { return done_.load(std::memory_order_acquire) == count; };
  if (!spin_until(all_done)) {
    caller_sleeping_.store(1, std::memory_order_seq_cst);
    for (uint32_t d = done_.load(std::memory_order_seq_cst); d != count;
         d = done_.load(std::memory_order_seq_cst)) {
      done_.wait(d, std::memory_order_seq_cst);
    }
    caller_sleeping_.store(0, std::memory_order_relaxed);
  }
}

void ThreadPool::worker_loop(int index) {
  uint32_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      while (generation_.load(std::memory_order_seq_cst) == seen)
        generation_.wait(seen, std::memory_order_seq_cst);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    work(index);
  }
}

}  // namespace sov
