#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace sov {
namespace {

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (size_t n : {1u, 2u, 7u, 64u, 1000u}) {
    for (size_t grain : {1u, 4u, 16u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](size_t b, size_t e, int) {
        EXPECT_TRUE(b % grain == 0);
        for (size_t i = b; i < e; ++i) hits[i]++;
      }, grain);
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

TEST(ThreadPool, PhysicalCoresPositive) { EXPECT_GE(physical_cores(), 1); }

}  // namespace
}  // namespace sov
