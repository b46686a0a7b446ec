// Prompt building: from request fields to the token ids a job runs on.
//
// Chat: the model's own Jinja chat template (tokenizer.chat_template). A model without one
// (or whose template does not parse) gets the default ChatML-style template below, whose
// turn markers also become stop strings:
//   <|im_start|>system\n...<|im_end|>\n<|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n
// Tools, when given, are listed in a system turn and calls are expected as <tool_call>.
//
// Generate (/api/generate, /v1/completions): raw prompts are used as written; otherwise the
// prompt becomes a user turn of the chat template, or, for a model without a template, the
// plain text (system first, then a blank line, then the prompt). Fill-in-the-middle
// (`suffix`) needs the model's FIM tokens. Ollama's `template` field is a Go template; only
// {{ .System }}, {{ .Prompt }} and {{ .Response }} substitutions are supported.
//
// Pure functions over an immutable Runner; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/model_manager.h"

namespace sov::server {

struct BuiltPrompt {
  std::vector<int32_t> tokens;
  std::vector<std::string> stops;  // stop strings the template implies
};

// Renders a conversation (messages validated by the caller: objects with a string role) with
// the model's template, or the default one. `tools` null for none.
Result<BuiltPrompt> build_chat_prompt(const Runner& runner, const nlohmann::ordered_json& messages,
                                      const nlohmann::ordered_json& tools);

struct GeneratePromptRequest {
  std::string prompt;
  std::string suffix;
  std::string system;
  std::string go_template;  // Ollama `template`
  bool has_template = false;
  bool raw = false;
  std::vector<int32_t> context;  // Ollama `context`: tokens of the previous exchange
};

Result<BuiltPrompt> build_generate_prompt(const Runner& runner, const GeneratePromptRequest& request);

// Tokenizes rendered prompt text: special tokens are parsed, and BOS is added when the
// vocabulary wants it unless the text already starts with it.
std::vector<int32_t> tokenize_prompt(const Runner& runner, const std::string& text, bool allow_bos = true);

// The supported subset of Go templates; kUnsupported for anything else.
Result<std::string> apply_go_template(std::string_view tmpl, std::string_view system,
                                      std::string_view prompt);

// Keeps a too-long prompt's BOS and its last tokens so that `n_ctx` positions leave room
// for `reserve` generated tokens. Used only when the client asked for truncation.
std::vector<int32_t> truncate_prompt(const std::vector<int32_t>& tokens, int32_t n_ctx, int32_t reserve,
                                     int32_t bos);

// Checks chat messages: objects with role system/user/assistant/tool, string (or parts)
// content, no images, tool_calls an array.
Status validate_messages(const nlohmann::ordered_json& messages);
// The function names of a tools list ([{"type": "function", "function": {"name": ...}}]).
Result<std::vector<std::string>> tool_names(const nlohmann::ordered_json& tools);

// The default template (for docs and tests).
extern const char* const kDefaultChatTemplate;

}  // namespace sov::server
