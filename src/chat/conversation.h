// Conversation: the state of a chat in `sov run` — the system prompt, the generation
// parameters (Ollama option names, see parameters.h) and the messages so far — and its
// file form for /save and /load:
//
//   {"format": "sov-conversation", "version": 1, "model": "llama3.2:latest",
//    "system": "...", "parameters": {"temperature": 0.7},
//    "messages": [{"role": "user", "content": "..."}, {"role": "assistant", ...}]}
//
// Messages have a role (system, user, assistant or tool) and string content. A loaded file is
// validated completely (size, shape, roles, parameter types) before it replaces anything.
//
// A Conversation is a plain value; not synchronised.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::chat {

class Conversation {
 public:
  static constexpr size_t kMaxFileBytes = 64u << 20;

  const std::string& model() const { return model_; }
  void set_model(std::string model) { model_ = std::move(model); }
  const std::string& system() const { return system_; }
  void set_system(std::string system) { system_ = std::move(system); }

  nlohmann::ordered_json& parameters() { return parameters_; }
  const nlohmann::ordered_json& parameters() const { return parameters_; }

  // The messages after the system prompt, in order.
  const nlohmann::ordered_json& messages() const { return messages_; }
  size_t size() const { return messages_.size(); }
  Status add(std::string_view role, std::string content);
  // Removes the last message (a user message whose answer failed), if any.
  void pop_back() {
    if (!messages_.empty()) messages_.erase(messages_.end() - 1);
  }
  // Forgets the messages; keeps the system prompt and the parameters.
  void clear() { messages_ = nlohmann::ordered_json::array(); }

  // What a chat template renders: a system message (when the system prompt is set) followed
  // by the messages.
  nlohmann::ordered_json chat_messages() const;

  nlohmann::ordered_json to_json() const;
  static Result<Conversation> from_json(const nlohmann::ordered_json& j);

  // Writes the JSON form to `path` atomically (temporary file, then rename).
  Status save(const std::string& path) const;
  static Result<Conversation> load(const std::string& path);

 private:
  std::string model_;
  std::string system_;
  nlohmann::ordered_json parameters_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
};

// True for system, user, assistant and tool.
bool is_valid_role(std::string_view role);

}  // namespace sov::chat
