// Terminal rendering of pull/create progress for the CLI: on a terminal one line per
// status, redrawn in place with a bar, bytes, rate and ETA; elsewhere (logs, pipes) one
// plain line per status and per finished layer, so output stays readable and stable.
// Not thread-safe: feed events from one thread at a time (ProgressFn guarantees that).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <utility>

#include "store/store.h"

namespace sov::store {

// "1.2 GB", "535 KB", "17 B" (decimal units, as Ollama prints them).
std::string format_bytes(uint64_t n);
// "5s", "3m20s", "1h05m".
std::string format_duration(double seconds);
// One progress line, e.g. "pulling 0123456789ab:  45% ▕████      ▏ 535 KB/1.2 MB  3.1 MB/s  2s".
// rate_bps <= 0 leaves out rate and ETA.
std::string render_progress_line(const Progress& p, double rate_bps, int bar_width = 20);

class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}
  void update(const Progress& p);
  // Ends the line being redrawn (call once at the end).
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  double rate(const Progress& p);

  std::FILE* out_;
  bool interactive_;
  std::string status_;
  bool line_open_ = false;
  bool done_printed_ = false;
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
  Clock::time_point last_draw_{};
};

}  // namespace sov::store
