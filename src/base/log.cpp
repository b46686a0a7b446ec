#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace sov::log {
namespace {
std::atomic<Level> g_level{Level::kWarn};
std::mutex g_mutex;
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, Level* out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"debug", Level::kDebug}, {"info", Level::kInfo}, {"warn", Level::kWarn},
      {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& [name, l] : kNames) {
    if (text == name) {
      *out = l;
      return true;
    }
  }
  return false;
}

void write(Level l, std::string_view message) {
  static constexpr const char* kTags[] = {"debug", "info", "warn", "error", "off"};
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "[%s] %.*s\n", kTags[static_cast<int>(l)], static_cast<int>(message.size()),
               message.data());
}

}  // namespace sov::log
