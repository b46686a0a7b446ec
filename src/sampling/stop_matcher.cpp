#include "sampling/stop_matcher.h"

#include <algorithm>

#include "base/utf8.h"

namespace sov::sampling {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

size_t StopMatcher::partial_match_tail() const {
  const std::string_view text(pending_);
  size_t best = 0;
  for (const std::string& stop : stops_) {
    if (stop.empty()) continue;
    // Longest first, so the first hit is the longest tail for this stop string.
    for (size_t k = std::min(stop.size() - 1, text.size()); k > best; --k) {
      if (text.substr(text.size() - k) == std::string_view(stop).substr(0, k)) {
        best = k;
        break;
      }
    }
  }
  return best;
}

StopMatcher::Output StopMatcher::feed(std::string_view piece) {
  Output out;
  if (stopped()) {
    out.stopped = true;
    out.stop_index = stop_index_;
    return out;
  }
  pending_.append(piece);

  // Earliest complete match. pending_ never holds more than a partial match plus the new
  // piece, so a plain search per stop string is cheap.
  size_t match_at = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    if (stops_[i].empty()) continue;
    const size_t at = pending_.find(stops_[i]);
    if (at < match_at) {
      match_at = at;
      stop_index_ = static_cast<int32_t>(i);
    }
  }
  if (match_at != std::string::npos) {
    out.text = pending_.substr(0, match_at);
    out.stopped = true;
    out.stop_index = stop_index_;
    pending_.clear();
    return out;
  }

  // Everything before a possible stop prefix (or an unfinished UTF-8 character) is final:
  // any stop string starting there would have been found above or would be a longer tail.
  const size_t hold = std::max(partial_match_tail(), utf8::incomplete_tail(pending_));
  out.text = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

void StopMatcher::reset() {
  pending_.clear();
  stop_index_ = -1;
}

}  // namespace sov::sampling
