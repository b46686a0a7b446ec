// Durations and timestamps as the Ollama API writes them.
//
// keep_alive accepts a JSON number (seconds) or a Go duration string ("5m", "1h30m",
// "500ms", "-1s"); a negative value means "forever", 0 means "unload now". Timestamps are
// RFC 3339 with nanoseconds in UTC ("2024-06-04T14:38:31.837530000Z"). Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::server {

// How long a model stays loaded after a request. `forever` wins over `duration`.
struct KeepAlive {
  std::chrono::nanoseconds duration{std::chrono::minutes(5)};
  bool forever = false;
  bool operator==(const KeepAlive&) const = default;
};

// Go's time.ParseDuration subset: [-]{number unit}+ with units ns us µs ms s m h, or a bare
// "0". Bare numbers are taken as seconds (as a convenience for env variables).
Result<KeepAlive> parse_keep_alive_text(std::string_view text);
// A JSON keep_alive value: number of seconds or duration string.
Result<KeepAlive> parse_keep_alive(const nlohmann::json& value);

// RFC 3339 in UTC with nanoseconds.
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace sov::server
