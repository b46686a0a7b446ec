#include "base/confined.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sov {
namespace {

TEST(Confined, ReturnsTheChildsValue) {
  // Larger than a pipe buffer, so the parent must read while the child writes.
  auto r = run_confined("copy", [] { return Result<std::string>(std::string(3 << 20, 'x') + "end"); });
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->size(), (3u << 20) + 3);
  EXPECT_EQ(r->substr(r->size() - 3), "end");
  auto empty = run_confined("empty", [] { return Result<std::string>(std::string()); });
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
}

TEST(Confined, PassesErrorsThrough) {
  auto r = run_confined("parse", [] { return Result<std::string>(Status::corrupt("bad xref")); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(r.status().message(), "bad xref");
  auto thrown = run_confined("parse", []() -> Result<std::string> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(thrown.status().message(), "boom");
}

TEST(Confined, MemoryGrowthIsStopped) {
  ConfineLimits limits;
  limits.max_memory_bytes = 32 << 20;
  auto r = run_confined(
      "bomb",
      []() -> Result<std::string> {
        std::vector<char*> blocks;
        for (int i = 0; i < 2048; ++i) {  // 2 GiB if nobody stops it
          char* b = static_cast<char*>(std::malloc(1 << 20));
          std::memset(b, i, 1 << 20);
          blocks.push_back(b);
        }
        return std::string("not stopped");
      },
      limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "bomb: needs more than 32 MiB of memory");
}

TEST(Confined, TimeLimitIsEnforced) {
  ConfineLimits limits;
  limits.timeout_ms = 200;
  auto start = std::chrono::steady_clock::now();
  auto r = run_confined(
      "loop",
      []() -> Result<std::string> {
        std::this_thread::sleep_for(std::chrono::seconds(30));
        return std::string("late");
      },
      limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("took longer than 0.2 s"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(Confined, ResultSizeIsBounded) {
  ConfineLimits limits;
  limits.max_result_bytes = 1 << 20;
  auto r = run_confined(
      "text", [] { return Result<std::string>(std::string(4 << 20, 'y')); }, limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "text: result larger than 1 MiB");
}

TEST(Confined, ACrashIsAnError) {
  auto r = run_confined("reader", []() -> Result<std::string> { std::abort(); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  EXPECT_NE(r.status().message().find("reader: crashed"), std::string::npos) << r.status().message();
}

TEST(Confined, ChildSeesNoneOfTheParentsFiles) {
  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto r = run_confined("probe", [fd] {
    return Result<std::string>(::fcntl(fd, F_GETFD) < 0 && errno == EBADF ? "closed" : "open");
  });
  ::close(fd);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(*r, "closed");
}

TEST(Confined, ConcurrentCallsGetTheirOwnResults) {
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([i, &got] {
      auto r = run_confined("n", [i] { return Result<std::string>(std::string(100000 + i, 'a' + i)); });
      got[i] = r ? *r : r.status().message();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i], std::string(100000 + i, 'a' + i));
}

}  // namespace
}  // namespace sov
