#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace sov {
namespace {

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (size_t n : {1u, 2u, 7u, 64u, 1000u}) {
    for (size_t grain : {1u, 4u, 16u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(
          n,
          [&](size_t b, size_t e, int) {
            EXPECT_TRUE(b % grain == 0);
            for (size_t i = b; i < e; ++i) hits[i]++;
          },
          grain);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, ManyCallsInARow) {
  ThreadPool pool(2);
  std::atomic<long> sum{0};
  for (int k = 0; k < 2000; ++k) {
    pool.parallel_for(10, [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) sum += static_cast<long>(i);
    });
  }
  EXPECT_EQ(sum.load(), 2000L * 45);
}

TEST(ThreadPool, PhysicalCoresPositive) {
  EXPECT_GE(physical_cores(), 1);
}

}  // namespace
}  // namespace sov

namespace sov {
namespace {

// After the pool has been idle long enough for its workers to sleep, a job still wakes them
// and completes; and chunks run by one thread index never overlap in time.
TEST(ThreadPool, WakesSleepingWorkersAndKeepsThreadIndicesDistinct) {
  ThreadPool pool(4);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // longer than the spin
    std::vector<std::atomic<int>> busy(4);
    std::atomic<int> overlaps{0}, calls{0};
    std::atomic<size_t> covered{0};
    pool.parallel_for(
        4000,
        [&](size_t b, size_t e, int t) {
          if (busy[t].fetch_add(1) != 0) overlaps++;
          calls++;
          covered += e - b;
          busy[t].fetch_sub(1);
        },
        8);
    EXPECT_EQ(covered.load(), 4000u);
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_GT(calls.load(), 1);
  }
}

// A callable that is not copyable works (it is passed by reference, never wrapped).
TEST(ThreadPool, AcceptsMoveOnlyCallables) {
  ThreadPool pool(2);
  auto owned = std::make_unique<std::atomic<int>>(0);
  std::atomic<int>* counter = owned.get();
  auto fn = [p = std::move(owned)](size_t b, size_t e, int) { *p += static_cast<int>(e - b); };
  pool.parallel_for(100, fn);
  pool.parallel_for(100, fn);
  EXPECT_EQ(counter->load(), 200);
}

}  // namespace
}  // namespace sov
