#include "store/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sov::store {

std::string format_bytes(uint64_t n) {
  const double v = static_cast<double>(n);
  if (n >= 1000000000ull) return fmt::format("{:.1f} GB", v / 1e9);
  if (n >= 1000000ull) return fmt::format("{:.1f} MB", v / 1e6);
  if (n >= 1000ull) return fmt::format("{:.0f} KB", v / 1e3);
  return fmt::format("{} B", n);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<uint64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string render_progress_line(const Progress& p, double rate_bps, int bar_width) {
  if (p.total == 0) return p.status;
  const uint64_t done = std::min(p.completed, p.total);
  const double frac = static_cast<double>(done) / static_cast<double>(p.total);
  const int filled = static_cast<int>(frac * bar_width);
  std::string bar = "\u2595";
  for (int i = 0; i < bar_width; ++i) bar += i < filled ? "\u2588" : " ";
  bar += "\u258f";
  std::string line = fmt::format("{}: {:3}% {} {}/{}", p.status, static_cast<int>(frac * 100), bar,
                                 format_bytes(done), format_bytes(p.total));
  if (rate_bps > 0 && done < p.total) {
    line += fmt::format("  {}/s  {}", format_bytes(static_cast<uint64_t>(rate_bps)),
                        format_duration(static_cast<double>(p.total - done) / rate_bps));
  }
  return line;
}

double ProgressPrinter::rate(const Progress& p) {
  const auto now = Clock::now();
  samples_.emplace_back(now, p.completed);
  while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5)) samples_.pop_front();
  const double dt = std::chrono::duration<double>(now - samples_.front().first).count();
  if (dt < 0.2 || p.completed < samples_.front().second) return 0;
  return static_cast<double>(p.completed - samples_.front().second) / dt;
}

void ProgressPrinter::update(const Progress& p) {
  const bool new_status = p.status != status_;
  if (new_status) {
    if (line_open_) std::fputc('\n', out_);
    line_open_ = false;
    status_ = p.status;
    samples_.clear();
    done_printed_ = false;
  }
  const double r = rate(p);
  if (interactive_) {
    const auto now = Clock::now();
    const bool finished = p.total > 0 && p.completed >= p.total;
    if (!new_status && !finished && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::fprintf(out_, "\r\033[K%s", render_progress_line(p, r).c_str());
    line_open_ = true;
  } else if (p.total == 0) {
    if (new_status) std::fprintf(out_, "%s\n", p.status.c_str());
  } else if (p.completed >= p.total && !done_printed_) {
    std::fprintf(out_, "%s: 100%% %s\n", p.status.c_str(), format_bytes(p.total).c_str());
    done_printed_ = true;
  }
  std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
  std::fflush(out_);
}

}  // namespace sov::store
