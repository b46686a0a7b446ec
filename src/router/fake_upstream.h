// FakeUpstream: an OpenAI-compatible test server on 127.0.0.1 (a random port) for the
// router's tests. POST /v1/chat/completions and /v1/completions answer with "echo: " and the
// last user text (so a test sees exactly what left the machine and what came back), either
// whole or as server-sent events cut into 3-byte pieces (so placeholders are split across
// chunks). Behaviours for the next requests can be scripted: fail with 500, 429 with
// Retry-After: 0, stall (send nothing until the test ends), or stream the first piece and
// wait for release() before the rest (to prove the proxy passes chunks on without
// buffering). Every request's path, headers of interest and body are recorded.
//
// Test-only code (linked into tests, never into sov). Thread-safe.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sov::router::test {

class FakeUpstream {
 public:
  enum class Mode { kAnswer, kFail500, kRateLimit429, kStall, kGatedStream, kBadRequest400 };

  FakeUpstream();
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  // "http://127.0.0.1:<port>/v1"
  std::string base_url() const;
  int port() const { return port_; }

  // Behaviours of the next requests, in order; afterwards kAnswer.
  void script(std::vector<Mode> modes);
  // Answer with this text instead of the echo.
  void set_reply(std::string text);
  // Lets a kGatedStream answer continue.
  void release();
  // Whether the last gated stream was released by release() (rather than by its timeout).
  bool gate_released() const;

  struct Recorded {
    std::string path;
    std::string authorization;
    std::string body;
  };
  std::vector<Recorded> requests() const;
  size_t count() const;

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  Mode next_mode();

  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Mode> script_;
  std::string reply_;
  std::vector<Recorded> requests_;
  bool released_ = false;
  bool gate_released_ = false;
  bool stopping_ = false;
};

}  // namespace sov::router::test
