// How a store model's Modelfile settings (the manifest's params, template, system and
// messages layers, carried by ModelEntry) apply to requests, as in Ollama:
//
//   PARAMETER  defaults below the request: server API defaults -> model parameters -> the
//              request's own options. A parameter this server cannot honour (e.g. mirostat)
//              is skipped with a log line instead of failing every request.
//   SYSTEM     the system prompt when the request brings none (chat: no system message;
//              generate: no "system" field).
//   MESSAGE    prepended to the conversation (after the system prompt).
//   TEMPLATE   a Jinja template replaces the GGUF chat template (model_manager.cpp). A Go
//              template of the supported subset ({{ .System }}, {{ .Prompt }},
//              {{ .Response }}) formats prompts; a Go template beyond it (Ollama's library
//              templates with range/if) is not run: the GGUF's Jinja template is used.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/model_resolver.h"
#include "server/options.h"

namespace sov::server {

class ModelResolver;

// Applies the model's parameters to `out` (request options are applied afterwards by the
// caller). Unresolvable names are left alone: the request fails later with the proper error.
void apply_model_params(const ModelResolver& resolver, std::string_view model, GenOptions* out);
// The same for an entry already resolved.
void apply_model_params(const ModelEntry& entry, GenOptions* out);

// True when a template is Jinja ({% ... %} blocks or Hugging Face's `messages` loop).
bool is_jinja_template(std::string_view text);

// The model's Go template when it is in the supported subset; nullopt otherwise.
std::optional<std::string> simple_go_template(const ModelEntry& entry);

// Renders one turn of a Go template: the text before {{ .Response }} when `response` is
// null (the turn being generated), else the whole turn with the response in place.
Result<std::string> render_go_turn(std::string_view tmpl, std::string_view system, std::string_view prompt,
                                   const std::string* response);

// Renders a conversation (validated messages) with a Go template, Ollama's way for
// templates without .Messages: one turn per user message, the system prompt in the first.
Result<std::string> render_go_conversation(std::string_view tmpl, const nlohmann::ordered_json& messages);

// The request's messages with the model's SYSTEM (when the request has no system message)
// and MESSAGEs in front.
nlohmann::ordered_json with_model_messages(const ModelEntry& entry, const nlohmann::ordered_json& messages);

}  // namespace sov::server
