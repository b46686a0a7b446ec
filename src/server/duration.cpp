#include "server/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace sov::server {
namespace {

KeepAlive from_seconds(double seconds) {
  KeepAlive k;
  if (seconds < 0) {
    k.forever = true;
    k.duration = std::chrono::nanoseconds::max();
  } else {
    // Saturate far-future values instead of overflowing.
    const double ns = std::min(seconds * 1e9, 9.0e18);
    k.duration = std::chrono::nanoseconds(static_cast<int64_t>(ns));
  }
  return k;
}

std::optional<double> unit_ns(std::string_view u) {
  if (u == "ns") return 1.0;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1e3;
  if (u == "ms") return 1e6;
  if (u == "s") return 1e9;
  if (u == "m") return 60e9;
  if (u == "h") return 3600e9;
  return std::nullopt;
}

}  // namespace

Result<KeepAlive> parse_keep_alive_text(std::string_view text) {
  auto bad = [&] {
    return Status::invalid_argument(fmt::format(
        "keep_alive: invalid duration \"{}\" (use seconds or a duration such as \"5m\", \"1h\", \"-1\")",
        text));
  };
  if (text.empty() || text.size() > 64) return bad();
  std::string_view s = text;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return bad();
  // A bare number means seconds.
  bool bare = true;
  for (char c : s) bare = bare && ((c >= '0' && c <= '9') || c == '.');
  if (bare) {
    try {
      double v = std::stod(std::string(s));
      return from_seconds(negative ? -v : v);
    } catch (...) {
      return bad();
    }
  }
  double total_ns = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == start) return bad();
    double v;
    try {
      v = std::stod(std::string(s.substr(start, i - start)));
    } catch (...) {
      return bad();
    }
    size_t ustart = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    auto mult = unit_ns(s.substr(ustart, i - ustart));
    if (!mult) return bad();
    total_ns += v * *mult;
  }
  return from_seconds((negative ? -total_ns : total_ns) / 1e9);
}

Result<KeepAlive> parse_keep_alive(const nlohmann::json& value) {
  if (value.is_number()) {
    double v = value.get<double>();
    if (!std::isfinite(v)) return Status::invalid_argument("keep_alive must be finite");
    return from_seconds(v);
  }
  if (value.is_string()) return parse_keep_alive_text(value.get<std::string>());
  return Status::invalid_argument(
      "keep_alive must be a number of seconds or a duration string such as \"5m\"");
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace sov::server
