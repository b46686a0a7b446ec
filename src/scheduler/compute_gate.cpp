#include "scheduler/compute_gate.h"

namespace sov::scheduler {

void ComputeGate::Turn::release() {
  if (gate_ != nullptr) {
    gate_->leave();
    gate_ = nullptr;
  }
}

ComputeGate::Turn ComputeGate::enter() {
  std::unique_lock lock(mu_);
  const uint64_t ticket = next_ticket_++;
  cv_.wait(lock, [&] { return serving_ == ticket; });
  return Turn(this);
}

void ComputeGate::leave() {
  {
    std::lock_guard lock(mu_);
    ++serving_;
  }
  cv_.notify_all();
}

int64_t ComputeGate::waiting() const {
  std::lock_guard lock(mu_);
  // Tickets handed out minus the one being served (held) and those already served.
  const uint64_t outstanding = next_ticket_ - serving_;
  return outstanding > 0 ? static_cast<int64_t>(outstanding) - 1 : 0;
}

}  // namespace sov::scheduler
