// A fixed pool of worker threads for data-parallel loops (matmul rows, attention heads).
//
// parallel_for(n, fn, grain) splits [0, n) into chunks (multiples of `grain`), which the
// caller and the workers claim one after another until none is left, and returns when all
// are done. Chunks shrink as the range is used up (guided scheduling: large first chunks,
// so each thread streams long runs of a weight matrix; small last ones, so the threads
// finish together). Claiming dynamically keeps both cores busy when the OS takes one away
// for a while. The callable is passed by reference through a plain function pointer, so nothing
// allocates per call: safe inside the decode loop.
//
// Waiting is cheap for the short gaps of a forward pass: idle workers and the waiting
// caller spin (with pause) for a short while, then sleep on a futex, so a pool left idle
// costs no CPU. One parallel_for at a time per pool: callers from several threads must
// serialise (the scheduler owns the pool during a forward pass).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
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

  // Calls fn(begin, end, thread_index) over disjoint chunks covering [0, n); thread_index
  // is in [0, size()) and no two concurrent calls share one. Chunk boundaries are
  // multiples of `grain` (except the end of the range).
  template <typename Fn>
  void parallel_for(size_t n, Fn&& fn, size_t grain = 1) {
    using F = std::remove_reference_t<Fn>;
    run(n, grain, &invoke<F>, const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using Trampoline = void (*)(void* fn, size_t begin, size_t end, int thread);
  template <typename F>
  static void invoke(void* fn, size_t begin, size_t end, int thread) {
    (*static_cast<F*>(fn))(begin, end, thread);
  }

  void run(size_t n, size_t grain, Trampoline call, void* fn);
  // Claims and runs chunks of the job published in next_ until none is left.
  void work(int thread);
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;

  // The current job: written by the caller while no job runs, then published by a release
  // store of next_. A worker reads them only after claiming a chunk of that job, and a job
  // cannot end while one of its chunks is running, so they never change under a reader.
  std::atomic<Trampoline> call_{nullptr};
  std::atomic<void*> fn_{nullptr};
  // Chunk c of the current job is [bounds_[c], bounds_[c + 1]).
  static constexpr size_t kMaxChunks = 256;
  size_t bounds_[kMaxChunks + 1] = {};
  // (job id: 20 bits | chunk count: 22 bits | next chunk to claim: 22 bits). Claiming is a
  // compare-and-swap on the whole word, so a thread that wakes up late can never claim a
  // chunk of a newer job with the bounds of an older one.
  alignas(64) std::atomic<uint64_t> next_{0};
  alignas(64) std::atomic<uint32_t> done_{0};        // chunks finished in the current job
  alignas(64) std::atomic<uint32_t> generation_{0};  // bumped per job; workers sleep on it
  std::atomic<uint32_t> sleepers_{0};                // workers asleep on generation_
  std::atomic<uint32_t> caller_sleeping_{0};         // the caller asleep on done_
  std::atomic<bool> stop_{false};
  uint32_t job_id_ = 0;
};

// Physical cores of this machine (hyper-threads not counted), at least 1.
int physical_cores();

}  // namespace sov
