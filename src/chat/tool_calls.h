// ToolCallParser: finds tool calls in a model's streamed output and separates them from the
// plain text, incrementally, so that text can be streamed while calls are recognised.
//
// Recognised formats:
//   Hermes / Qwen   <tool_call>{"name": "f", "arguments": {...}}</tool_call>   (anywhere)
//   Mistral         [TOOL_CALLS] [{"name": "f", "arguments": {...}}, ...]   or
//                   [TOOL_CALLS]f[ARGS]{...}
//   Llama 3.1       <|python_tag|>{"name": "f", "parameters": {...}}
//   plain JSON      {"name": "f", "arguments"|"parameters": {...}} or a list of them, when
//                   the output starts with it (Llama 3.x, many fine-tunes); with a tool list
//                   the name must be one of the tools, else it is ordinary JSON content.
// Arguments given as a JSON-encoded string are decoded. A marker whose payload does not
// parse is passed through as text. Text that might be the start of a marker is held back
// until it is decided; finish() releases everything still held.
//
// One parser per output stream; not thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sov::chat {

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

class ToolCallParser {
 public:
  struct Output {
    std::string content;          // text to show now
    std::vector<ToolCall> calls;  // calls completed by this input
  };

  explicit ToolCallParser(std::vector<std::string> tool_names = {});

  Output feed(std::string_view text);
  Output finish();
  // Calls found so far.
  size_t n_calls() const { return n_calls_; }

 private:
  enum class Mode { kText, kTagged, kJson };
  void process(Output* out, bool final);
  // Interprets JSON text as one call or a list of calls; false when it is not a call.
  bool interpret(std::string_view json_text, bool require_known_name, std::vector<ToolCall>* calls) const;
  void emit_calls(Output* out, std::vector<ToolCall> calls);

  std::vector<std::string> tool_names_;
  Mode mode_ = Mode::kText;
  std::string pending_;      // undecided text
  std::string marker_;       // the marker that opened the current call (for the fallback)
  bool plain_json_ = false;  // kJson without a marker
  bool at_start_ = true;     // nothing but whitespace or calls so far
  size_t n_calls_ = 0;
};

// End of a complete JSON value at the start of `s` (after leading whitespace), or npos
// when it is not complete yet. Only tracks brackets and strings; does not validate.
size_t json_value_end(std::string_view s);

}  // namespace sov::chat
