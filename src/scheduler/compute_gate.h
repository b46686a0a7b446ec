// ComputeGate: turn-taking on the machine's cores between forward passes.
//
// Every forward pass (a Scheduler step of any loaded model, an embedding micro-batch) spreads
// over all cores. Two at once would not run faster: they would share the cores, each thread
// pool's spinning workers would stall the other's, and both requests would slow down
// unpredictably. So each pass takes a turn first: turns are granted one at a time, in the
// order they were asked for (a ticket lock). A chat stream and an embedding request on the
// same server therefore alternate: one decode step, one embedding micro-batch, one decode
// step, ... and a caller waits for at most one pass of each other active caller. Callers
// keep their passes short (bounded micro-batches) so that the wait stays short too.
//
// Thread-safety: enter() may be called from any thread; a Turn is released by its owner
// (destructor or release()). Turns are not re-entrant: a thread holding one must not ask for
// another.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sov::scheduler {

class ComputeGate {
 public:
  // Holds a turn until destroyed or released; an empty Turn holds nothing.
  class Turn {
   public:
    Turn() = default;
    ~Turn() { release(); }
    Turn(Turn&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Turn& operator=(Turn&& o) noexcept {
      if (this != &o) {
        release();
        gate_ = o.gate_;
        o.gate_ = nullptr;
      }
      return *this;
    }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    void release();
    bool holds() const { return gate_ != nullptr; }

   private:
    friend class ComputeGate;
    explicit Turn(ComputeGate* gate) : gate_(gate) {}
    ComputeGate* gate_ = nullptr;
  };

  ComputeGate() = default;
  ComputeGate(const ComputeGate&) = delete;
  ComputeGate& operator=(const ComputeGate&) = delete;

  // Waits until every earlier caller has had and ended its turn.
  Turn enter();
  // Callers waiting for a turn (not counting the one holding it).
  int64_t waiting() const;

 private:
  void leave();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ticket_ = 0;  // the ticket the next caller gets
  uint64_t serving_ = 0;      // the ticket whose turn it is
};

}  // namespace sov::scheduler
