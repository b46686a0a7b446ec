// Translation between the four client APIs Sovereign serves and the OpenAI chat/completions
// API of upstreams: requests (Ollama /api/chat and /api/generate become /chat/completions),
// whole responses, and streams (OpenAI server-sent events become the client's SSE events or
// Ollama NDJSON lines, one output chunk per upstream event, nothing buffered beyond a
// possibly cut placeholder).
//
// Placeholders from redaction are restored on the way back (Redaction / StreamRestorer).
// Stateless functions; a StreamTranslator is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "router/redact.h"

namespace sov::router {

using ojson = nlohmann::ordered_json;

enum class ApiKind { kOpenAIChat, kOpenAICompletions, kOllamaChat, kOllamaGenerate };

// The API of a request path, or false for paths that are not routed.
bool api_for_path(std::string_view path, ApiKind* api);
const char* api_name(ApiKind api);

// Facts about a request that routing rules look at.
struct RequestFacts {
  std::string model;
  std::string prompt;           // all user-visible text of the request, for keyword/regex rules
  int64_t prompt_tokens = 0;    // estimated: one token per 4 bytes of text, rounded up
  bool tokens_counted = false;  // prompt_tokens counted with the local model's tokenizer instead
  bool has_images = false;
  bool has_tools = false;
  bool stream = false;       // as the client asked (Ollama's default is true)
  bool wants_usage = false;  // OpenAI stream_options.include_usage
};
RequestFacts request_facts(ApiKind api, const ojson& body);

// Estimated token count of text (bytes / 4, rounded up).
int64_t estimate_tokens(std::string_view text);

// The upstream request: path relative to the base URL ("/chat/completions" or
// "/completions") and body (with `model`; Sovereign's own fields removed; streaming asks
// for usage). Every string the user wrote is redacted through `redactor` into `redaction`.
struct UpstreamRequest {
  std::string path;
  ojson body;
};
Result<UpstreamRequest> to_upstream(ApiKind api, const ojson& body, const std::string& model,
                                    const Redactor& redactor, Redaction* redaction);

// Token usage reported by the upstream (or estimated when it reports none).
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool reported = false;
};

// A whole (non-streamed) upstream answer in the client's shape, placeholders restored.
// `elapsed_ns` fills Ollama's duration fields.
Result<ojson> from_upstream(ApiKind api, const ojson& upstream, const Redaction& redaction,
                            int64_t elapsed_ns, Usage* usage);

// Turns upstream SSE events into client stream bytes.
class StreamTranslator {
 public:
  StreamTranslator(ApiKind api, const Redaction* redaction, bool client_wants_usage);
  // One SSE data payload ("[DONE]" or a JSON chunk); returns bytes for the client ("" if
  // none yet). Malformed JSON is kCorrupt.
  Result<std::string> on_event(std::string_view data);
  // After the upstream ended (normally or not): flushes what is held back and writes the
  // final chunk / [DONE] unless already written.
  std::string on_end(int64_t elapsed_ns);
  // An error line/event in the client's format (the stream broke after it had begun).
  std::string on_error(const std::string& message) const;
  const Usage& usage() const { return usage_; }
  size_t output_bytes() const { return output_bytes_; }
  size_t text_bytes() const { return text_bytes_; }  // generated text passed on
  bool finished() const { return finished_; }

 private:
  std::string ollama_line(const std::string& text, bool done, int64_t elapsed_ns) const;
  std::string flush_held();

  ApiKind api_;
  const Redaction* redaction_;
  bool client_wants_usage_;
  std::string model_;
  std::string finish_reason_;
  Usage usage_;
  size_t output_bytes_ = 0;
  size_t text_bytes_ = 0;
  bool finished_ = false;                                                // [DONE] seen / final line written
  std::map<int, std::unique_ptr<StreamRestorer>> content_;               // per choice
  std::map<std::pair<int, int>, std::unique_ptr<StreamRestorer>> args_;  // per (choice, tool call)
  // Ollama: tool calls collected from deltas, sent as one message at the end.
  std::map<int, ojson> tool_calls_;
};

// Parses server-sent events incrementally: push() bytes, get the data payloads of complete
// events (multi-line data joined with '\n'; comments and other fields ignored).
class SseParser {
 public:
  std::vector<std::string> push(std::string_view bytes);

 private:
  std::string buffer_;
  std::string data_;
  bool has_data_ = false;
};

// RFC 3339 UTC time with nanoseconds, as Ollama writes created_at.
std::string rfc3339_now();

}  // namespace sov::router
