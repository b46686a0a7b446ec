// Chat rendering: turns a conversation into the prompt text a model expects, by running the
// model's own chat template (GGUF `tokenizer.chat_template`, Jinja2 source) the way Hugging
// Face transformers' apply_chat_template does.
//
// Variables the template sees: `messages`, `tools` (the given list, or none), `documents`
// (none unless extra_context sets it), `add_generation_prompt`, `bos_token`, `eos_token`,
// and every key of `extra_context` (e.g. enable_thinking, reasoning_effort). Messages are
// passed as given: a JSON null is None, a missing key is undefined. Use nlohmann's
// ordered_json so that key order, which `tojson` output shows, is kept.
//
// ChatTemplate is immutable after parse; render() may be called from several threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/jinja_template.h"

namespace sov::chat {

struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools = nullptr;  // null: none; otherwise the list as given
  bool add_generation_prompt = true;
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> parse(std::string_view template_text, std::string bos_token,
                                    std::string eos_token);

  Result<std::string> render(const ChatRequest& request, const RenderOptions& options = {}) const;

  const std::string& bos_token() const { return bos_; }
  const std::string& eos_token() const { return eos_; }

 private:
  ChatTemplate(JinjaTemplate tmpl, std::string bos, std::string eos)
      : tmpl_(std::move(tmpl)), bos_(std::move(bos)), eos_(std::move(eos)) {}
  JinjaTemplate tmpl_;
  std::string bos_;
  std::string eos_;
};

// One-shot convenience: parse + render. `tools` null means no tools; `extra_context` must be
// an object (or null).
Result<std::string> render_chat(
    std::string_view template_text, const nlohmann::ordered_json& messages,
    const nlohmann::ordered_json& tools, bool add_generation_prompt, std::string_view bos_token,
    std::string_view eos_token,
    const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object(),
    const RenderOptions& options = {});

}  // namespace sov::chat
