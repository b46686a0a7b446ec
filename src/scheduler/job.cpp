#include "scheduler/job.h"

namespace sov::scheduler {

bool Job::next(JobEvent* out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return false;
  *out = std::move(events_.front());
  events_.pop_front();
  return true;
}

bool Job::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

void Job::push(JobEvent event) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = event.kind != JobEvent::Kind::kText;
    events_.push_back(std::move(event));
  }
  cv_.notify_one();
}

}  // namespace sov::scheduler
