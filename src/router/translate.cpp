#include "router/translate.h"

#include <fmt/format.h>

#include <ctime>

namespace sov::router {
namespace {

// Keys whose string values are structure, not user text, and are never redacted; image
// data is skipped too (base64 may look like a phone number to a regex).
bool structural_key(std::string_view key) {
  return key == "role" || key == "type" || key == "id" || key == "tool_call_id" || key == "name" ||
         key == "images" || key == "image_url" || key == "model" || key == "tool_name";
}

void redact_tree(ojson* j, const Redactor& r, Redaction* red) {
  if (j->is_string()) {
    std::string s = j->get<std::string>();
    if (s.starts_with("data:")) return;
    r.redact(&s, red);
    *j = s;
  } else if (j->is_object()) {
    for (auto it = j->begin(); it != j->end(); ++it) {
      if (!structural_key(it.key())) redact_tree(&it.value(), r, red);
    }
  } else if (j->is_array()) {
    for (auto& item : *j) redact_tree(&item, r, red);
  }
}

void restore_tree(ojson* j, const Redaction& red) {
  if (j->is_string()) {
    *j = red.restore(j->get<std::string>());
  } else if (j->is_structured()) {
    for (auto& item : *j) restore_tree(&item, red);
  }
}

void collect_text(const ojson& j, std::string* out, std::string_view key = "") {
  if (j.is_string()) {
    if (structural_key(key)) return;
    out->append(j.get<std::string>());
    out->push_back('\n');
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!structural_key(it.key())) collect_text(it.value(), out, it.key());
    }
  } else if (j.is_array()) {
    for (const auto& item : j) collect_text(item, out, key);
  }
}

std::string image_data_url(const std::string& b64) {
  // Ollama sends bare base64; guess the type from the first bytes.
  const char* mime = "image/png";
  if (b64.starts_with("/9j/"))
    mime = "image/jpeg";
  else if (b64.starts_with("R0lGOD"))
    mime = "image/gif";
  else if (b64.starts_with("UklGR"))
    mime = "image/webp";
  return fmt::format("data:{};base64,{}", mime, b64);
}

// OpenAI content for a message with optional Ollama images.
ojson openai_content(const ojson& content, const ojson* images) {
  if (!images || !images->is_array() || images->empty()) return content.is_null() ? ojson("") : content;
  ojson parts = ojson::array();
  if (content.is_string() && !content.get<std::string>().empty())
    parts.push_back({{"type", "text"}, {"text", content}});
  for (const auto& img : *images) {
    if (img.is_string())
      parts.push_back(
          {{"type", "image_url"}, {"image_url", {{"url", image_data_url(img.get<std::string>())}}}});
  }
  return parts;
}

// Ollama's options -> OpenAI sampling fields.
void map_ollama_options(const ojson& body, ojson* out) {
  auto it = body.find("options");
  if (it == body.end() || !it->is_object()) return;
  const ojson& o = *it;
  for (const char* k : {"temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "stop"}) {
    if (o.contains(k) && !o[k].is_null()) (*out)[k] = o[k];
  }
  if (o.contains("num_predict") && o["num_predict"].is_number_integer() &&
      o["num_predict"].get<int64_t>() > 0)
    (*out)["max_tokens"] = o["num_predict"];
}

void map_ollama_format(const ojson& body, ojson* out) {
  auto it = body.find("format");
  if (it == body.end() || it->is_null()) return;
  if (it->is_string() && it->get<std::string>() == "json") {
    (*out)["response_format"] = {{"type", "json_object"}};
  } else if (it->is_object()) {
    (*out)["response_format"] = {{"type", "json_schema"},
                                 {"json_schema", {{"name", "response"}, {"schema", *it}, {"strict", true}}}};
  }
}

Result<ojson> ollama_chat_messages(const ojson& body) {
  ojson out = ojson::array();
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array())
    return Status::invalid_argument("field \"messages\" must be an array");
  for (const auto& m : *it) {
    if (!m.is_object()) return Status::invalid_argument("each message must be an object");
    ojson msg = {{"role", m.value("role", "user")}};
    const ojson content = m.contains("content") ? m["content"] : ojson("");
    msg["content"] = openai_content(content, m.contains("images") ? &m["images"] : nullptr);
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      ojson calls = ojson::array();
      int i = 0;
      for (const auto& c : m["tool_calls"]) {
        if (!c.is_object() || !c.contains("function")) continue;
        const ojson& f = c["function"];
        const ojson args = f.contains("arguments") ? f["arguments"] : ojson::object();
        calls.push_back({{"id", fmt::format("call_{}", i++)},
                         {"type", "function"},
                         {"function",
                          {{"name", f.value("name", "")},
                           {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}}}});
      }
      msg["tool_calls"] = calls;
    }
    out.push_back(std::move(msg));
  }
  return out;
}

std::string ollama_done_reason(const std::string& finish) {
  if (finish == "length") return "length";
  return "stop";
}

int64_t int_field(const ojson& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

void read_usage(const ojson& j, Usage* usage) {
  auto it = j.find("usage");
  if (it == j.end() || !it->is_object()) return;
  usage->prompt_tokens = int_field(*it, "prompt_tokens");
  usage->completion_tokens = int_field(*it, "completion_tokens");
  usage->reported = true;
}

ojson ollama_tool_calls(const ojson& openai_calls) {
  ojson out = ojson::array();
  for (const auto& c : openai_calls) {
    if (!c.is_object() || !c.contains("function")) continue;
    const ojson& f = c["function"];
    ojson args = ojson::object();
    if (f.contains("arguments") && f["arguments"].is_string()) {
      args = ojson::parse(f["arguments"].get<std::string>(), nullptr, false);
      if (args.is_discarded()) args = f["arguments"];
    }
    out.push_back({{"function", {{"name", f.value("name", "")}, {"arguments", args}}}});
  }
  return out;
}

}  // namespace

bool api_for_path(std::string_view path, ApiKind* api) {
  if (path == "/v1/chat/completions")
    *api = ApiKind::kOpenAIChat;
  else if (path == "/v1/completions")
    *api = ApiKind::kOpenAICompletions;
  else if (path == "/api/chat")
    *api = ApiKind::kOllamaChat;
  else if (path == "/api/generate")
    *api = ApiKind::kOllamaGenerate;
  else
    return false;
  return true;
}

const char* api_name(ApiKind api) {
  switch (api) {
    case ApiKind::kOpenAIChat: return "openai-chat";
    case ApiKind::kOpenAICompletions: return "openai-completions";
    case ApiKind::kOllamaChat: return "ollama-chat";
    case ApiKind::kOllamaGenerate: return "ollama-generate";
  }
  return "?";
}

int64_t estimate_tokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09d}Z", buf, ns);
}

RequestFacts request_facts(ApiKind api, const ojson& body) {
  RequestFacts f;
  if (!body.is_object()) return f;
  if (auto it = body.find("model"); it != body.end() && it->is_string()) f.model = it->get<std::string>();
  const bool ollama = api == ApiKind::kOllamaChat || api == ApiKind::kOllamaGenerate;
  f.stream = body.contains("stream") && body["stream"].is_boolean() ? body["stream"].get<bool>() : ollama;
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object())
    f.wants_usage = so->value("include_usage", false);
  for (const char* k : {"messages", "prompt", "system", "suffix"}) {
    if (body.contains(k)) collect_text(body[k], &f.prompt);
  }
  f.prompt_tokens = estimate_tokens(f.prompt);
  if (auto t = body.find("tools"); t != body.end() && t->is_array() && !t->empty()) f.has_tools = true;
  if (auto im = body.find("images"); im != body.end() && im->is_array() && !im->empty()) f.has_images = true;
  if (auto ms = body.find("messages"); ms != body.end() && ms->is_array()) {
    for (const auto& m : *ms) {
      if (!m.is_object()) continue;
      if (m.contains("images") && m["images"].is_array() && !m["images"].empty()) f.has_images = true;
      if (m.contains("content") && m["content"].is_array()) {
        for (const auto& part : m["content"]) {
          if (part.is_object() && part.value("type", "") == "image_url") f.has_images = true;
        }
      }
    }
  }
  return f;
}

Result<UpstreamRequest> to_upstream(ApiKind api, const ojson& body, const std::string& model,
                                    const Redactor& redactor, Redaction* redaction) {
  if (!body.is_object()) return Status::invalid_argument("the request body must be a JSON object");
  UpstreamRequest out;
  const RequestFacts facts = request_facts(api, body);
  switch (api) {
    case ApiKind::kOpenAIChat:
    case ApiKind::kOpenAICompletions: {
      out.path = api == ApiKind::kOpenAIChat ? "/chat/completions" : "/completions";
      out.body = body;
      for (const char* k : {"keep_alive", "options", "num_ctx", "truncate", "sov_route", "sov_private"})
        out.body.erase(k);
      break;
    }
    case ApiKind::kOllamaChat: {
      out.path = "/chat/completions";
      out.body = ojson::object();
      SOV_ASSIGN_OR_RETURN(out.body["messages"], ollama_chat_messages(body));
      if (body.contains("tools") && body["tools"].is_array() && !body["tools"].empty())
        out.body["tools"] = body["tools"];
      map_ollama_options(body, &out.body);
      map_ollama_format(body, &out.body);
      break;
    }
    case ApiKind::kOllamaGenerate: {
      out.path = "/chat/completions";
      out.body = ojson::object();
      ojson messages = ojson::array();
      if (body.contains("system") && body["system"].is_string() && !body["system"].get<std::string>().empty())
        messages.push_back({{"role", "system"}, {"content", body["system"]}});
      const ojson prompt = body.contains("prompt") ? body["prompt"] : ojson("");
      messages.push_back(
          {{"role", "user"},
           {"content", openai_content(prompt, body.contains("images") ? &body["images"] : nullptr)}});
      out.body["messages"] = messages;
      map_ollama_options(body, &out.body);
      map_ollama_format(body, &out.body);
      break;
    }
  }
  out.body["model"] = model;
  out.body["stream"] = facts.stream;
  if (facts.stream) out.body["stream_options"] = {{"include_usage", true}};
  for (const char* k : {"messages", "prompt", "suffix"}) {
    if (out.body.contains(k)) redact_tree(&out.body[k], redactor, redaction);
  }
  return out;
}

Result<ojson> from_upstream(ApiKind api, const ojson& upstream, const Redaction& redaction,
                            int64_t elapsed_ns, Usage* usage) {
  if (!upstream.is_object()) return Status::corrupt("the upstream answer is not a JSON object");
  read_usage(upstream, usage);
  ojson restored = upstream;
  restore_tree(&restored, redaction);
  if (api == ApiKind::kOpenAIChat || api == ApiKind::kOpenAICompletions) return restored;
  auto ch = restored.find("choices");
  if (ch == restored.end() || !ch->is_array() || ch->empty() || !(*ch)[0].is_object())
    return Status::corrupt("the upstream answer has no choices");
  const ojson& c0 = (*ch)[0];
  const ojson msg = c0.contains("message") && c0["message"].is_object() ? c0["message"] : ojson::object();
  const std::string content =
      msg.contains("content") && msg["content"].is_string() ? msg["content"].get<std::string>() : "";
  const std::string finish = c0.contains("finish_reason") && c0["finish_reason"].is_string()
                                 ? c0["finish_reason"].get<std::string>()
                                 : "stop";
  ojson out = {{"model", restored.value("model", "")}, {"created_at", rfc3339_now()}};
  if (api == ApiKind::kOllamaChat) {
    ojson m = {{"role", "assistant"}, {"content", content}};
    if (msg.contains("tool_calls") && msg["tool_calls"].is_array() && !msg["tool_calls"].empty())
      m["tool_calls"] = ollama_tool_calls(msg["tool_calls"]);
    out["message"] = m;
  } else {
    out["response"] = content;
  }
  out["done"] = true;
  out["done_reason"] = ollama_done_reason(finish);
  out["total_duration"] = elapsed_ns;
  out["load_duration"] = 0;
  out["prompt_eval_count"] = usage->prompt_tokens;
  out["prompt_eval_duration"] = 0;
  out["eval_count"] = usage->completion_tokens;
  out["eval_duration"] = elapsed_ns;
  return out;
}

StreamTranslator::StreamTranslator(ApiKind api, const Redaction* redaction, bool client_wants_usage)
    : api_(api), redaction_(redaction), client_wants_usage_(client_wants_usage) {}

std::string StreamTranslator::ollama_line(const std::string& text, bool done, int64_t elapsed_ns) const {
  ojson j = {{"model", model_}, {"created_at", rfc3339_now()}};
  if (api_ == ApiKind::kOllamaChat) {
    j["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    j["response"] = text;
  }
  j["done"] = done;
  if (done) {
    j["done_reason"] = ollama_done_reason(finish_reason_);
    j["total_duration"] = elapsed_ns;
    j["load_duration"] = 0;
    j["prompt_eval_count"] = usage_.prompt_tokens;
    j["prompt_eval_duration"] = 0;
    j["eval_count"] = usage_.completion_tokens;
    j["eval_duration"] = elapsed_ns;
  }
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

Result<std::string> StreamTranslator::on_event(std::string_view data) {
  const bool openai = api_ == ApiKind::kOpenAIChat || api_ == ApiKind::kOpenAICompletions;
  if (data == "[DONE]") {
    std::string out = flush_held();
    if (openai) {
      out += "data: [DONE]\n\n";
      finished_ = true;
    }
    return out;
  }
  ojson j = ojson::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::corrupt("the upstream sent a malformed stream event");
  if (j.contains("error")) {
    const ojson& e = j["error"];
    const std::string msg = e.is_object() && e.contains("message") && e["message"].is_string()
                                ? e["message"].get<std::string>()
                                : e.dump();
    return Status::io_error("the upstream reported an error: " + msg.substr(0, 500));
  }
  if (j.contains("model") && j["model"].is_string()) model_ = j["model"].get<std::string>();
  read_usage(j, &usage_);
  std::string out;
  auto choices = j.find("choices");
  const bool usage_only = j.contains("usage") && j["usage"].is_object() &&
                          (choices == j.end() || !choices->is_array() || choices->empty());
  if (choices != j.end() && choices->is_array()) {
    for (auto& c : *choices) {
      if (!c.is_object()) continue;
      const int index = c.contains("index") && c["index"].is_number_integer() ? c["index"].get<int>() : 0;
      auto& restorer = content_[index];
      if (!restorer) restorer = std::make_unique<StreamRestorer>(redaction_);
      const bool finishing = c.contains("finish_reason") && c["finish_reason"].is_string();
      if (finishing) finish_reason_ = c["finish_reason"].get<std::string>();
      // Content: completions put it in "text", chat in "delta.content".
      ojson* text = nullptr;
      if (c.contains("text") && c["text"].is_string()) text = &c["text"];
      if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
          c["delta"]["content"].is_string())
        text = &c["delta"]["content"];
      std::string piece = text ? restorer->push(text->get<std::string>()) : "";
      if (finishing) piece += restorer->flush();
      text_bytes_ += piece.size();
      if (text)
        *text = piece;
      else if (!piece.empty() && c.contains("delta") && c["delta"].is_object())
        c["delta"]["content"] = piece;
      else if (!piece.empty())
        c["text"] = piece;
      // Tool call argument fragments.
      if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("tool_calls") &&
          c["delta"]["tool_calls"].is_array()) {
        for (auto& call : c["delta"]["tool_calls"]) {
          if (!call.is_object()) continue;
          const int ti =
              call.contains("index") && call["index"].is_number_integer() ? call["index"].get<int>() : 0;
          auto& ar = args_[{index, ti}];
          if (!ar) ar = std::make_unique<StreamRestorer>(redaction_);
          if (call.contains("function") && call["function"].is_object() &&
              call["function"].contains("arguments") && call["function"]["arguments"].is_string()) {
            call["function"]["arguments"] =
                ar->push(call["function"]["arguments"].get<std::string>()) + (finishing ? ar->flush() : "");
          }
          if (!openai && index == 0) {
            ojson& acc = tool_calls_[ti];
            if (acc.is_null()) acc = {{"name", ""}, {"arguments", ""}};
            if (call.contains("function") && call["function"].is_object()) {
              const ojson& f = call["function"];
              if (f.contains("name") && f["name"].is_string())
                acc["name"] = acc["name"].get<std::string>() + f["name"].get<std::string>();
              if (f.contains("arguments") && f["arguments"].is_string())
                acc["arguments"] = acc["arguments"].get<std::string>() + f["arguments"].get<std::string>();
            }
          }
        }
      }
      if (!openai && index == 0 && !piece.empty()) out += ollama_line(piece, false, 0);
    }
  }
  if (openai) {
    if (usage_only && !client_wants_usage_) return out;  // we asked for it for the audit log
    if (!client_wants_usage_) j.erase("usage");
    out += "data: " + j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n\n";
  }
  output_bytes_ += out.size();
  return out;
}

std::string StreamTranslator::flush_held() {
  std::string out;
  const bool openai = api_ == ApiKind::kOpenAIChat || api_ == ApiKind::kOpenAICompletions;
  for (auto& [index, r] : content_) {
    std::string rest = r->flush();
    if (rest.empty()) continue;
    if (openai) {
      ojson c = {{"index", index}};
      if (api_ == ApiKind::kOpenAIChat)
        c["delta"] = {{"content", rest}};
      else
        c["text"] = rest;
      c["finish_reason"] = nullptr;
      ojson j = {{"object", api_ == ApiKind::kOpenAIChat ? "chat.completion.chunk" : "text_completion"},
                 {"model", model_},
                 {"choices", ojson::array({c})}};
      out += "data: " + j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n\n";
    } else if (index == 0) {
      out += ollama_line(rest, false, 0);
    }
  }
  return out;
}

std::string StreamTranslator::on_end(int64_t elapsed_ns) {
  if (finished_) return "";
  std::string out = flush_held();
  const bool openai = api_ == ApiKind::kOpenAIChat || api_ == ApiKind::kOpenAICompletions;
  if (openai) {
    out += "data: [DONE]\n\n";
  } else {
    if (!tool_calls_.empty()) {
      ojson calls = ojson::array();
      for (auto& [i, acc] : tool_calls_) {
        const std::string a = redaction_->restore(acc["arguments"].get<std::string>());
        ojson args = ojson::parse(a, nullptr, false);
        if (args.is_discarded()) args = a;
        calls.push_back({{"function", {{"name", acc["name"]}, {"arguments", args}}}});
      }
      ojson j = {{"model", model_},
                 {"created_at", rfc3339_now()},
                 {"message", {{"role", "assistant"}, {"content", ""}, {"tool_calls", calls}}},
                 {"done", false}};
      out += j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
    }
    out += ollama_line("", true, elapsed_ns);
  }
  finished_ = true;
  output_bytes_ += out.size();
  return out;
}

std::string StreamTranslator::on_error(const std::string& message) const {
  const bool openai = api_ == ApiKind::kOpenAIChat || api_ == ApiKind::kOpenAICompletions;
  if (openai) {
    ojson e = {
        {"error", {{"message", message}, {"type", "upstream_error"}, {"param", nullptr}, {"code", nullptr}}}};
    return "data: " + e.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n\n";
  }
  return ojson{{"error", message}}.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::vector<std::string> SseParser::push(std::string_view bytes) {
  std::vector<std::string> events;
  buffer_.append(bytes);
  size_t start = 0;
  while (true) {
    const size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = nl + 1;
    if (line.empty()) {
      if (has_data_) events.push_back(std::move(data_));
      data_.clear();
      has_data_ = false;
      continue;
    }
    if (line.starts_with("data:")) {
      std::string_view v = line.substr(5);
      if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      if (has_data_) data_ += '\n';
      data_.append(v);
      has_data_ = true;
    }
  }
  buffer_.erase(0, start);
  return events;
}

}  // namespace sov::router
