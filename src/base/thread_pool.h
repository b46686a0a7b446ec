// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads).
//
// parallel_for splits [0, n) into one contiguous chunk per thread and runs them on the
// caller plus the workers; it returns when all chunks are done. Nothing allocates per call,
// so it is safe inside the decode loop. One parallel_for at a time per pool: callers from
// several threads must serialise (the scheduler owns the pool during a forward pass).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sov {

class ThreadPool {
 public:
  // n_threads counts the calling thread; 0 means physical_cores().
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) over disjoint chunks covering [0, n).
  // Chunk boundaries are multiples of `grain` (except the last).
  void parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn, size_t grain = 1);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t, int)>* job_ = nullptr;
  size_t job_n_ = 0;
  size_t job_grain_ = 1;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// Physical cores of this machine (hyper-threads not counted), at least 1.
int physical_cores();

}  // namespace sov
