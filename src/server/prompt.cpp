#include "server/prompt.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "server/http_util.h"
#include "server/model_config.h"

namespace sov::server {
namespace {

const char* const kDefaultStops[] = {"<|im_end|>", "<|im_start|>"};

// Content given as a list of parts (OpenAI style) becomes plain text.
ojson normalise_messages(const ojson& messages) {
  ojson out = ojson::array();
  for (const auto& m : messages) {
    ojson copy = m;
    auto it = copy.find("content");
    if (it != copy.end() && it->is_array()) {
      std::string text;
      for (const auto& part : *it) {
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
            part["text"].is_string()) {
          text += part["text"].get<std::string>();
        }
      }
      *it = text;
    }
    // Tool call arguments may arrive as a JSON string (OpenAI): templates expect objects.
    auto calls = copy.find("tool_calls");
    if (calls != copy.end() && calls->is_array()) {
      for (auto& call : *calls) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
        auto& fn = call["function"];
        if (fn.contains("arguments") && fn["arguments"].is_string()) {
          ojson parsed = ojson::parse(fn["arguments"].get<std::string>(), nullptr, false);
          if (!parsed.is_discarded()) fn["arguments"] = parsed;
        }
      }
    }
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

const char* const kDefaultChatTemplate =
    "{% if tools %}<|im_start|>system\n"
    "You can call these tools. To call one, answer with "
    "<tool_call>{\"name\": <tool name>, \"arguments\": <arguments object>}</tool_call>.\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}<|im_end|>\n{% endif %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% endif %}"
    "{% if message['tool_calls'] %}{% for call in message['tool_calls'] %}"
    "<tool_call>{{ call['function'] | tojson }}</tool_call>{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

std::vector<int32_t> tokenize_prompt(const Runner& runner, const std::string& text, bool allow_bos) {
  const auto& tok = *runner.tokenizer;
  bool add_special = allow_bos;
  if (tok.bos() >= 0 && !tok.piece(tok.bos()).empty() && text.starts_with(tok.piece(tok.bos())))
    add_special = false;
  return tok.encode(text, add_special, /*parse_special=*/true);
}

Result<BuiltPrompt> build_chat_prompt(const Runner& runner, const ojson& messages, const ojson& tools) {
  BuiltPrompt out;
  chat::ChatRequest req;
  // The model's SYSTEM and MESSAGEs (store manifest) come first (model_config.h).
  req.messages = with_model_messages(runner.entry, normalise_messages(messages));
  req.tools = tools.is_array() && !tools.empty() ? tools : ojson(nullptr);
  req.add_generation_prompt = true;
  Result<std::string> text = std::string();
  auto go_template = simple_go_template(runner.entry);
  if (go_template && req.tools.is_null()) {
    text = render_go_conversation(*go_template, req.messages);
  } else if (runner.chat_template) {
    text = runner.chat_template->render(req);
  } else {
    const auto& tok = *runner.tokenizer;
    text = chat::render_chat(kDefaultChatTemplate, req.messages, req.tools, true,
                             tok.bos() >= 0 ? tok.piece(tok.bos()) : "",
                             tok.eos() >= 0 ? tok.piece(tok.eos()) : "");
    for (const char* s : kDefaultStops) out.stops.emplace_back(s);
  }
  if (!text)
    return Status::invalid_argument(fmt::format("the chat template failed: {}", text.status().message()));
  out.tokens = tokenize_prompt(runner, *text);
  return out;
}

Result<std::string> apply_go_template(std::string_view tmpl, std::string_view system,
                                      std::string_view prompt) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, open - i));
    size_t close = tmpl.find("}}", open);
    if (close == std::string_view::npos) return Status::invalid_argument("template: unclosed {{");
    std::string_view action = tmpl.substr(open + 2, close - open - 2);
    bool trim_left = action.starts_with("-"), trim_right = action.ends_with("-");
    if (trim_left) action.remove_prefix(1);
    if (trim_right && !action.empty()) action.remove_suffix(1);
    while (!action.empty() && action.front() == ' ') action.remove_prefix(1);
    while (!action.empty() && action.back() == ' ') action.remove_suffix(1);
    if (trim_left) {
      while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    }
    if (action == ".System") {
      out.append(system);
    } else if (action == ".Prompt") {
      out.append(prompt);
    } else if (action == ".Response") {
      // The response follows the prompt: nothing to insert.
    } else {
      return Status::unsupported(
          fmt::format("template: \"{{{{{}}}}}\" is not supported; Go templates are not run by this server "
                      "(only {{{{ .System }}}}, "
                      "{{{{ .Prompt }}}} and {{{{ .Response }}}} are substituted). Send a raw prompt instead "
                      "(\"raw\": true)",
                      action.substr(0, 60)));
    }
    i = close + 2;
    if (trim_right) {
      while (i < tmpl.size() && std::isspace(static_cast<unsigned char>(tmpl[i]))) ++i;
    }
  }
  return out;
}

Result<BuiltPrompt> build_generate_prompt(const Runner& runner, const GeneratePromptRequest& r) {
  BuiltPrompt out;
  const auto& tok = *runner.tokenizer;
  const bool first = r.context.empty();
  // The request's system prompt, else the model's SYSTEM; a Modelfile Go TEMPLATE of the
  // supported subset formats the prompt when the request has no template (model_config.h).
  const std::string& system = r.system.empty() ? runner.entry.system : r.system;
  auto model_template = simple_go_template(runner.entry);
  if (!r.suffix.empty()) {
    const auto& s = tok.special_ids();
    if (s.fim_pre < 0 || s.fim_suf < 0 || s.fim_mid < 0) {
      return Status::invalid_argument(
          fmt::format("model \"{}\" does not support insert (suffix): it has no fill-in-the-middle tokens",
                      runner.entry.name));
    }
    if (first && tok.add_bos() && tok.bos() >= 0) out.tokens.push_back(tok.bos());
    out.tokens.push_back(s.fim_pre);
    auto pre = tok.encode(r.prompt, false, false);
    out.tokens.insert(out.tokens.end(), pre.begin(), pre.end());
    out.tokens.push_back(s.fim_suf);
    auto suf = tok.encode(r.suffix, false, false);
    out.tokens.insert(out.tokens.end(), suf.begin(), suf.end());
    out.tokens.push_back(s.fim_mid);
  } else if (r.raw) {
    out.tokens = tokenize_prompt(runner, r.prompt, first);
  } else if (r.has_template || model_template) {
    SOV_ASSIGN_OR_RETURN(std::string text, render_go_turn(r.has_template ? r.go_template : *model_template,
                                                          system, r.prompt, nullptr));
    out.tokens = tokenize_prompt(runner, text, first);
  } else if (runner.chat_template) {
    ojson messages = ojson::array();
    if (!r.system.empty()) messages.push_back({{"role", "system"}, {"content", r.system}});
    messages.push_back({{"role", "user"}, {"content", r.prompt}});
    SOV_ASSIGN_OR_RETURN(out, build_chat_prompt(runner, messages, nullptr));
    if (!first && !out.tokens.empty() && out.tokens[0] == tok.bos()) out.tokens.erase(out.tokens.begin());
  } else {
    std::string text = system.empty() ? r.prompt : system + "\n\n" + r.prompt;
    out.tokens = tokenize_prompt(runner, text, first);
  }
  if (!first) out.tokens.insert(out.tokens.begin(), r.context.begin(), r.context.end());
  return out;
}

Status validate_messages(const ojson& messages) {
  for (const auto& m : messages) {
    if (!m.is_object()) return Status::invalid_argument("each message must be an object");
    SOV_ASSIGN_OR_RETURN(auto role, get_string(m, "role"));
    if (!role) return Status::invalid_argument("each message needs a \"role\"");
    if (*role != "system" && *role != "user" && *role != "assistant" && *role != "tool") {
      return Status::invalid_argument(fmt::format(
          "unknown message role \"{}\" (use system, user, assistant or tool)", role->substr(0, 40)));
    }
    auto content = m.find("content");
    if (content != m.end() && !content->is_null() && !content->is_string() && !content->is_array()) {
      return Status::invalid_argument("message \"content\" must be a string");
    }
    SOV_ASSIGN_OR_RETURN(auto images, get_array(m, "images"));
    if (images && !images->empty()) {
      return Status::invalid_argument(
          "message: images are not supported: this server runs text-only models (no vision support yet)");
    }
    SOV_RETURN_IF_ERROR(get_array(m, "tool_calls").status());
  }
  return Status::ok();
}

Result<std::vector<std::string>> tool_names(const ojson& tools) {
  std::vector<std::string> names;
  for (const auto& t : tools) {
    if (!t.is_object()) return Status::invalid_argument("each tool must be an object");
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string()) {
      return Status::invalid_argument("each tool needs \"function\": {\"name\": ...}");
    }
    names.push_back((*fn)["name"].get<std::string>());
  }
  return names;
}

std::vector<int32_t> truncate_prompt(const std::vector<int32_t>& tokens, int32_t n_ctx, int32_t reserve,
                                     int32_t bos) {
  reserve = std::clamp(reserve, 0, n_ctx / 2);
  const size_t keep_total = static_cast<size_t>(std::max(1, n_ctx - reserve));
  if (tokens.size() <= keep_total) return tokens;
  std::vector<int32_t> out;
  const bool has_bos = bos >= 0 && !tokens.empty() && tokens[0] == bos;
  if (has_bos) out.push_back(bos);
  const size_t tail = keep_total - out.size();
  out.insert(out.end(), tokens.end() - static_cast<long>(tail), tokens.end());
  return out;
}

}  // namespace sov::server
