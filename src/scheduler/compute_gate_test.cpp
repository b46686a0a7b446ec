// ComputeGate: one turn at a time, granted in arrival order, and a Scheduler with a gate
// does not run a forward pass while someone else holds the turn.
#include "scheduler/compute_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "base/testdata.h"
#include "scheduler/scheduler.h"

namespace sov::scheduler {
namespace {

void wait_for_waiting(const ComputeGate& gate, int64_t n) {
  while (gate.waiting() < n) std::this_thread::yield();
}

TEST(ComputeGate, OneTurnAtATime) {
  ComputeGate gate;
  std::atomic<int> inside{0}, max_inside{0}, total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        ComputeGate::Turn turn = gate.enter();
        const int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        ++total;
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(max_inside.load(), 1);
  EXPECT_EQ(total.load(), 800);
  EXPECT_EQ(gate.waiting(), 0);
}

TEST(ComputeGate, TurnsAreGrantedInArrivalOrder) {
  ComputeGate gate;
  std::mutex mu;
  std::vector<char> order;
  ComputeGate::Turn held = gate.enter();
  EXPECT_TRUE(held.holds());
  std::thread a([&] {
    ComputeGate::Turn t = gate.enter();
    std::lock_guard lock(mu);
    order.push_back('a');
  });
  wait_for_waiting(gate, 1);
  std::thread b([&] {
    ComputeGate::Turn t = gate.enter();
    std::lock_guard lock(mu);
    order.push_back('b');
  });
  wait_for_waiting(gate, 2);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(order.empty());
  }
  held.release();
  EXPECT_FALSE(held.holds());
  a.join();
  b.join();
  EXPECT_EQ(order, (std::vector<char>{'a', 'b'}));
  // Moving a turn moves the obligation to release it.
  ComputeGate::Turn first = gate.enter();
  ComputeGate::Turn moved = std::move(first);
  EXPECT_FALSE(first.holds());
  EXPECT_TRUE(moved.holds());
}

TEST(ComputeGate, SchedulerWaitsForItsTurn) {
  SOV_REQUIRE_TESTDATA(dir);
  auto model = engine::Model::load(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(model.is_ok());
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  ASSERT_TRUE(tok.is_ok());
  ComputeGate gate;
  auto sched = Scheduler::create(*model, std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok).value()),
                                 {.n_slots = 1, .n_ctx = 64, .n_threads = 1, .gate = &gate});
  ASSERT_TRUE(sched.is_ok());
  ComputeGate::Turn held = gate.enter();
  JobRequest r;
  r.prompt = {1, 400, 27, 91};
  r.params.sampler.temperature = 0;
  r.params.max_tokens = 4;
  auto job = (*sched)->submit(std::move(r));
  ASSERT_TRUE(job.is_ok());
  wait_for_waiting(gate, 1);  // the worker is queued for its first forward pass
  JobEvent e;
  EXPECT_FALSE((*job)->next(&e, std::chrono::milliseconds(0)));
  held.release();
  int generated = -1;
  while ((*job)->next(&e, std::chrono::seconds(10))) {
    if (e.kind == JobEvent::Kind::kDone) {
      generated = e.stats.n_generated;
      break;
    }
    ASSERT_NE(e.kind, JobEvent::Kind::kError) << e.error.message();
  }
  EXPECT_EQ(generated, 4);
}

}  // namespace
}  // namespace sov::scheduler
