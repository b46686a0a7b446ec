// ChatPrompt: the prompt of a chat turn — a conversation rendered with the model's chat
// template (GGUF `tokenizer.chat_template`), or with a ChatML default when the model has no
// template or its template does not parse; the default's turn markers become stop strings.
//
// fit_chat_prompt keeps a long conversation inside the context: when the rendering is over
// budget it drops the oldest turns (a user message and the answers after it), never the
// system messages or the last message, and renders again.
//
// ChatPrompt is immutable after create(); render() may be called from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/chat_template.h"

namespace sov::chat {

// ChatML: <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n
extern const char* const kChatMLTemplate;

class ChatPrompt {
 public:
  // `model_template` is "" when the model has none.
  static ChatPrompt create(std::string_view model_template, std::string bos_token, std::string eos_token);

  bool uses_model_template() const { return uses_model_template_; }
  // Why the model's template is not used ("" when it is, or when the model has none).
  const std::string& warning() const { return warning_; }
  // The template source in use.
  const std::string& source() const { return source_; }
  // Stop strings implied by the template (the default's turn markers); empty for a model's
  // own template, whose end-of-turn token stops generation.
  const std::vector<std::string>& stops() const { return stops_; }

  Result<std::string> render(const nlohmann::ordered_json& messages, bool add_generation_prompt = true) const;

 private:
  ChatPrompt() = default;
  std::optional<ChatTemplate> tmpl_;
  bool uses_model_template_ = false;
  std::string warning_;
  std::string source_;
  std::vector<std::string> stops_;
};

using Tokenize = std::function<std::vector<int32_t>(const std::string& text)>;

struct FittedPrompt {
  std::string text;
  std::vector<int32_t> tokens;
  size_t n_dropped = 0;  // messages left out to fit
};

// Renders `messages` and tokenizes the text; while it has more than `max_tokens` tokens,
// leaves out the oldest turn. kOutOfRange when even the system messages and the last
// message alone do not fit.
Result<FittedPrompt> fit_chat_prompt(const ChatPrompt& prompt, const nlohmann::ordered_json& messages,
                                     const Tokenize& tokenize, size_t max_tokens);

}  // namespace sov::chat
