// StopMatcher: finds stop strings in streamed generated text.
//
// Feed it each decoded piece. It returns the text that is safe to show now and holds back
// a tail that could still be the start of a stop string (or an incomplete UTF-8 sequence).
// When a stop string completes, the text before it is released, the stop string and
// anything after it are dropped, and the matcher reports which stop string matched; later
// feeds return nothing. At the end of generation, flush() releases the held tail.
// Matching is bytewise, so stop strings split across pieces (even inside a multi-byte
// character) are found. If several stop strings match, the one that starts first wins
// (the one listed first on equal starts).
//
// Owns copies of the stop strings. Thread-compatible: one matcher per stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sov::sampling {

class StopMatcher {
 public:
  struct Output {
    std::string text;         // safe to emit now (may be empty)
    bool stopped = false;     // a stop string has matched: end the generation
    int32_t stop_index = -1;  // index into the constructor's list when stopped
  };

  // Empty stop strings are ignored (they would match everywhere).
  explicit StopMatcher(std::vector<std::string> stops);

  Output feed(std::string_view piece);
  // Releases the held-back tail at the end of the stream (nothing once stopped).
  std::string flush();
  // Back to the initial state, keeping the stop strings.
  void reset();

  bool stopped() const { return stop_index_ >= 0; }
  // Bytes currently held back.
  size_t held() const { return pending_.size(); }

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t partial_match_tail() const;

  std::vector<std::string> stops_;
  std::string pending_;  // text not yet emitted
  int32_t stop_index_ = -1;
};

}  // namespace sov::sampling
