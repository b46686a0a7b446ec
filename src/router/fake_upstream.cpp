#include "router/fake_upstream.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace sov::router::test {
namespace {

using json = nlohmann::json;

// The last user text of a chat or completions request.
std::string last_user_text(const json& body) {
  if (body.contains("prompt") && body["prompt"].is_string()) return body["prompt"].get<std::string>();
  std::string text;
  if (body.contains("messages") && body["messages"].is_array()) {
    for (const auto& m : body["messages"]) {
      if (!m.is_object() || m.value("role", "") != "user" || !m.contains("content")) continue;
      if (m["content"].is_string()) {
        text = m["content"].get<std::string>();
      } else if (m["content"].is_array()) {
        text.clear();
        for (const auto& p : m["content"]) {
          if (p.is_object() && p.value("type", "") == "text") text += p.value("text", "");
        }
      }
    }
  }
  return text;
}

std::string sse(const json& j) {
  return "data: " + j.dump() + "\n\n";
}

}  // namespace

FakeUpstream::FakeUpstream() {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
  http_.Post("/v1/chat/completions", handler);
  http_.Post("/v1/completions", handler);
  port_ = http_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { http_.listen_after_bind(); });
  for (int i = 0; i < 5000 && !http_.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeUpstream::~FakeUpstream() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  http_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeUpstream::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

void FakeUpstream::script(std::vector<Mode> modes) {
  std::lock_guard lock(mu_);
  script_.assign(modes.begin(), modes.end());
}

void FakeUpstream::set_reply(std::string text) {
  std::lock_guard lock(mu_);
  reply_ = std::move(text);
}

void FakeUpstream::release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

bool FakeUpstream::gate_released() const {
  std::lock_guard lock(mu_);
  return gate_released_;
}

std::vector<FakeUpstream::Recorded> FakeUpstream::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t FakeUpstream::count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

FakeUpstream::Mode FakeUpstream::next_mode() {
  std::lock_guard lock(mu_);
  if (script_.empty()) return Mode::kAnswer;
  Mode m = script_.front();
  script_.pop_front();
  return m;
}

void FakeUpstream::handle(const httplib::Request& req, httplib::Response& res) {
  {
    std::lock_guard lock(mu_);
    requests_.push_back(Recorded{req.path, req.get_header_value("Authorization"), req.body});
  }
  const Mode mode = next_mode();
  if (mode == Mode::kFail500) {
    res.status = 500;
    res.set_content(R"J({"error":{"message":"internal failure (scripted)","type":"server_error"}})J",
                    "application/json");
    return;
  }
  if (mode == Mode::kRateLimit429) {
    res.status = 429;
    res.set_header("Retry-After", "0");
    res.set_content(R"J({"error":{"message":"rate limited (scripted)","type":"rate_limit"}})J",
                    "application/json");
    return;
  }
  if (mode == Mode::kBadRequest400) {
    res.status = 400;
    res.set_content(R"J({"error":{"message":"bad request (scripted)","type":"invalid_request_error"}})J",
                    "application/json");
    return;
  }
  if (mode == Mode::kStall) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; });
    return;  // the client has given up long before
  }
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"body is not JSON"}})", "application/json");
    return;
  }
  std::string text;
  {
    std::lock_guard lock(mu_);
    text = reply_.empty() ? "echo: " + last_user_text(body) : reply_;
  }
  const std::string model = body.value("model", "fake");
  const bool chat = req.path == "/v1/chat/completions";
  const json usage = {{"prompt_tokens", 11}, {"completion_tokens", 7}, {"total_tokens", 18}};
  if (!body.value("stream", false)) {
    json choice = {{"index", 0}, {"finish_reason", "stop"}};
    if (chat)
      choice["message"] = {{"role", "assistant"}, {"content", text}};
    else
      choice["text"] = text;
    json out = {{"id", "fake-1"},
                {"object", chat ? "chat.completion" : "text_completion"},
                {"created", 1},
                {"model", model},
                {"choices", json::array({choice})},
                {"usage", usage}};
    res.set_content(out.dump(), "application/json");
    return;
  }
  const bool include_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                             body["stream_options"].value("include_usage", false);
  std::vector<std::string> events;
  for (size_t i = 0, n = 0; i < text.size(); i += n) {
    // Pieces of 3 bytes, extended to whole UTF-8 characters (JSON strings hold characters).
    n = std::min<size_t>(3, text.size() - i);
    while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
    json choice = {{"index", 0}, {"finish_reason", nullptr}};
    if (chat)
      choice["delta"] = {{"content", text.substr(i, n)}};
    else
      choice["text"] = text.substr(i, n);
    events.push_back(sse({{"id", "fake-1"},
                          {"object", chat ? "chat.completion.chunk" : "text_completion"},
                          {"model", model},
                          {"choices", json::array({choice})}}));
  }
  json last = {{"index", 0}, {"finish_reason", "stop"}};
  if (chat)
    last["delta"] = json::object();
  else
    last["text"] = "";
  events.push_back(sse({{"id", "fake-1"}, {"model", model}, {"choices", json::array({last})}}));
  if (include_usage)
    events.push_back(sse({{"id", "fake-1"}, {"model", model}, {"choices", json::array()}, {"usage", usage}}));
  events.push_back("data: [DONE]\n\n");
  const bool gated = mode == Mode::kGatedStream;
  res.set_chunked_content_provider(
      "text/event-stream", [this, events, gated, i = size_t{0}](size_t, httplib::DataSink& sink) mutable {
        if (i < events.size()) {
          if (!sink.write(events[i].data(), events[i].size())) return false;
          if (gated && i == 0) {
            std::unique_lock lock(mu_);
            const bool ok =
                cv_.wait_for(lock, std::chrono::seconds(20), [this] { return released_ || stopping_; });
            gate_released_ = ok && released_;
            released_ = false;
          }
          ++i;
          return true;
        }
        sink.done();
        return true;
      });
}

}  // namespace sov::router::test
