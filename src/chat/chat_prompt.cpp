#include "chat/chat_prompt.h"

#include <fmt/format.h>

namespace sov::chat {
namespace {
using ojson = nlohmann::ordered_json;
}  // namespace

const char* const kChatMLTemplate =
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

ChatPrompt ChatPrompt::create(std::string_view model_template, std::string bos_token, std::string eos_token) {
  ChatPrompt p;
  if (!model_template.empty()) {
    auto parsed = ChatTemplate::parse(model_template, bos_token, eos_token);
    if (parsed) {
      p.tmpl_.emplace(std::move(parsed).value());
      p.uses_model_template_ = true;
      p.source_ = std::string(model_template);
      return p;
    }
    p.warning_ =
        fmt::format("the model's chat template does not parse ({}); using ChatML", parsed.status().message());
  }
  auto chatml = ChatTemplate::parse(kChatMLTemplate, std::move(bos_token), std::move(eos_token));
  // The default template is a constant known to parse (chat_prompt_test checks it).
  if (chatml) p.tmpl_.emplace(std::move(chatml).value());
  p.source_ = kChatMLTemplate;
  p.stops_ = {"<|im_end|>", "<|im_start|>"};
  return p;
}

Result<std::string> ChatPrompt::render(const ojson& messages, bool add_generation_prompt) const {
  if (!tmpl_) return Status::internal("no chat template");
  ChatRequest req;
  req.messages = messages;
  req.add_generation_prompt = add_generation_prompt;
  auto text = tmpl_->render(req);
  if (!text)
    return Status::invalid_argument(fmt::format("the chat template failed: {}", text.status().message()));
  return text;
}

Result<FittedPrompt> fit_chat_prompt(const ChatPrompt& prompt, const ojson& messages,
                                     const Tokenize& tokenize, size_t max_tokens) {
  ojson kept = messages;
  FittedPrompt out;
  while (true) {
    SOV_ASSIGN_OR_RETURN(out.text, prompt.render(kept));
    out.tokens = tokenize(out.text);
    if (out.tokens.size() <= max_tokens) return out;
    // The oldest turn: the first non-system message, and what follows it up to the next
    // user message (templates often insist that user and assistant alternate).
    size_t first = 0;
    while (first < kept.size() && kept[first].value("role", "") == "system") ++first;
    size_t end = first + 1;
    while (end < kept.size() && kept[end].value("role", "") != "user") ++end;
    if (first + 1 >= kept.size() || end >= kept.size()) {
      return Status::out_of_range(fmt::format(
          "the message does not fit the context: the prompt has {} tokens but at most {} fit; raise num_ctx "
          "(/set parameter num_ctx N) or shorten the message",
          out.tokens.size(), max_tokens));
    }
    kept.erase(kept.begin() + static_cast<long>(first), kept.begin() + static_cast<long>(end));
    out.n_dropped += end - first;
  }
}

}  // namespace sov::chat
