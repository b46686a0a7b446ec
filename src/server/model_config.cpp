#include "server/model_config.h"

#include <fmt/format.h>

#include <cctype>

#include "base/log.h"
#include "server/prompt.h"

namespace sov::server {
namespace {

// The position and length of the first {{ .Response }} action (any '-' trims and spaces).
bool find_response_action(std::string_view tmpl, size_t* pos, size_t* len, bool* trim_left) {
  size_t i = 0;
  while ((i = tmpl.find("{{", i)) != std::string_view::npos) {
    size_t close = tmpl.find("}}", i);
    if (close == std::string_view::npos) return false;
    std::string_view action = tmpl.substr(i + 2, close - i - 2);
    bool left = action.starts_with("-");
    if (left) action.remove_prefix(1);
    if (action.ends_with("-")) action.remove_suffix(1);
    while (!action.empty() && action.front() == ' ') action.remove_prefix(1);
    while (!action.empty() && action.back() == ' ') action.remove_suffix(1);
    if (action == ".Response") {
      *pos = i;
      *len = close + 2 - i;
      *trim_left = left;
      return true;
    }
    i = close + 2;
  }
  return false;
}

std::string content_of(const nlohmann::ordered_json& m) {
  auto it = m.find("content");
  if (it == m.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

void apply_model_params(const ModelEntry& entry, GenOptions* out) {
  if (!entry.params.is_object()) return;
  for (const auto& [key, value] : entry.params.items()) {
    // One key at a time, so that one unusable parameter does not drop the others.
    GenOptions trial = *out;
    ojson one = ojson::object();
    one[key] = value;
    Status s = apply_ollama_options(one, &trial);
    if (s) {
      *out = std::move(trial);
    } else {
      log::debug("model {}: parameter {} not applied: {}", entry.name, key, s.message());
    }
  }
}

void apply_model_params(const ModelResolver& resolver, std::string_view model, GenOptions* out) {
  auto entry = resolver.resolve(model);
  if (entry) apply_model_params(*entry, out);
}

bool is_jinja_template(std::string_view text) {
  return text.find("{%") != std::string_view::npos || text.find("messages") != std::string_view::npos;
}

std::optional<std::string> simple_go_template(const ModelEntry& entry) {
  if (entry.template_text.empty() || is_jinja_template(entry.template_text)) return std::nullopt;
  if (!apply_go_template(entry.template_text, "", "")) return std::nullopt;
  return entry.template_text;
}

Result<std::string> render_go_turn(std::string_view tmpl, std::string_view system, std::string_view prompt,
                                   const std::string* response) {
  size_t pos = 0, len = 0;
  bool trim_left = false;
  if (!find_response_action(tmpl, &pos, &len, &trim_left)) {
    SOV_ASSIGN_OR_RETURN(std::string text, apply_go_template(tmpl, system, prompt));
    if (response) text += *response;
    return text;
  }
  SOV_ASSIGN_OR_RETURN(std::string head, apply_go_template(tmpl.substr(0, pos), system, prompt));
  if (trim_left) {
    while (!head.empty() && std::isspace(static_cast<unsigned char>(head.back()))) head.pop_back();
  }
  if (!response) return head;
  SOV_ASSIGN_OR_RETURN(std::string tail, apply_go_template(tmpl.substr(pos + len), system, prompt));
  return head + *response + tail;
}

Result<std::string> render_go_conversation(std::string_view tmpl, const nlohmann::ordered_json& messages) {
  std::string system, out;
  bool first = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const std::string role = m.value("role", "");
    if (role == "system") {
      system += system.empty() ? content_of(m) : "\n" + content_of(m);
      continue;
    }
    if (role != "user") continue;  // assistant turns are attached to their user turn
    std::string response;
    const bool answered = i + 1 < messages.size() && messages[i + 1].value("role", "") == "assistant";
    if (answered) response = content_of(messages[i + 1]);
    SOV_ASSIGN_OR_RETURN(std::string turn, render_go_turn(tmpl, first ? system : "", content_of(m),
                                                          answered ? &response : nullptr));
    out += turn;
    first = false;
    if (!answered) break;  // the turn being generated is the last one rendered
  }
  return out;
}

nlohmann::ordered_json with_model_messages(const ModelEntry& entry, const nlohmann::ordered_json& messages) {
  if (entry.system.empty() && entry.messages.empty()) return messages;
  bool has_system = false;
  for (const auto& m : messages) has_system = has_system || m.value("role", "") == "system";
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  // The request's leading system messages (or the model's SYSTEM), then MESSAGEs, then the rest.
  size_t lead = 0;
  while (lead < messages.size() && messages[lead].value("role", "") == "system")
    out.push_back(messages[lead++]);
  if (!has_system && !entry.system.empty()) out.push_back({{"role", "system"}, {"content", entry.system}});
  for (const auto& [role, content] : entry.messages) out.push_back({{"role", role}, {"content", content}});
  for (size_t i = lead; i < messages.size(); ++i) out.push_back(messages[i]);
  return out;
}

}  // namespace sov::server
