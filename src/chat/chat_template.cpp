#include "chat/chat_template.h"

#include "chat/jinja_error.h"
#include "chat/jinja_json.h"

namespace sov::chat {

Result<ChatTemplate> ChatTemplate::parse(std::string_view template_text, std::string bos_token,
                                         std::string eos_token) {
  SOV_ASSIGN_OR_RETURN(JinjaTemplate tmpl, JinjaTemplate::parse(template_text));
  return ChatTemplate(std::move(tmpl), std::move(bos_token), std::move(eos_token));
}

Result<std::string> ChatTemplate::render(const ChatRequest& request, const RenderOptions& options) const {
  if (!request.messages.is_array()) return Status::invalid_argument("chat messages must be a JSON array");
  if (!request.extra_context.is_null() && !request.extra_context.is_object()) {
    return Status::invalid_argument("chat template extra context must be a JSON object");
  }
  jinja::Dict vars;
  try {
    // Same variables, in the same order of precedence, as transformers' render call.
    vars.set(jinja::Value("messages"), jinja::from_json(request.messages));
    vars.set(jinja::Value("tools"), jinja::from_json(request.tools));
    vars.set(jinja::Value("documents"), jinja::Value::none());
    vars.set(jinja::Value("add_generation_prompt"), jinja::Value(request.add_generation_prompt));
    vars.set(jinja::Value("bos_token"), jinja::Value(bos_));
    vars.set(jinja::Value("eos_token"), jinja::Value(eos_));
    if (request.extra_context.is_object()) {
      for (const auto& [k, v] : request.extra_context.items()) vars.set(jinja::Value(k), jinja::from_json(v));
    }
  } catch (const jinja::Error& e) {
    return Status::invalid_argument("chat template input: " + e.message());
  }
  return tmpl_.render(vars, options);
}

Result<std::string> render_chat(std::string_view template_text, const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools, bool add_generation_prompt,
                                std::string_view bos_token, std::string_view eos_token,
                                const nlohmann::ordered_json& extra_context, const RenderOptions& options) {
  SOV_ASSIGN_OR_RETURN(ChatTemplate tmpl,
                       ChatTemplate::parse(template_text, std::string(bos_token), std::string(eos_token)));
  ChatRequest request;
  request.messages = messages;
  request.tools = tools;
  request.add_generation_prompt = add_generation_prompt;
  request.extra_context = extra_context;
  return tmpl.render(request, options);
}

}  // namespace sov::chat
