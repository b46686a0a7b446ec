#include "chat/tool_calls.h"

#include <algorithm>

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kMistral = "[TOOL_CALLS]";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMarkers[] = {kHermesOpen, kMistral, kPythonTag};

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

size_t skip_space(std::string_view s, size_t i = 0) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// Length of the longest suffix of `s` that is a proper prefix of a marker.
size_t partial_marker_tail(std::string_view s) {
  size_t best = 0;
  for (std::string_view m : kMarkers) {
    for (size_t len = std::min(s.size(), m.size() - 1); len > best; --len) {
      if (s.substr(s.size() - len) == m.substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

bool parse_json(std::string_view text, ojson* out) {
  *out = ojson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  return !out->is_discarded();
}

}  // namespace

size_t json_value_end(std::string_view s) {
  size_t i = skip_space(s);
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] != '{' && s[i] != '[') {
    // A scalar: not something we wait for.
    return std::string_view::npos;
  }
  int depth = 0;
  bool in_string = false, escape = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

ToolCallParser::ToolCallParser(std::vector<std::string> tool_names) : tool_names_(std::move(tool_names)) {}

bool ToolCallParser::interpret(std::string_view json_text, bool require_known_name,
                               std::vector<ToolCall>* calls) const {
  ojson j;
  if (!parse_json(json_text, &j)) return false;
  std::vector<ojson> items;
  if (j.is_array()) {
    if (j.empty()) return false;
    for (auto& x : j) items.push_back(x);
  } else {
    items.push_back(j);
  }
  std::vector<ToolCall> found;
  for (auto& item : items) {
    if (!item.is_object()) return false;
    const ojson* obj = &item;
    if (item.contains("function") && item["function"].is_object()) obj = &item["function"];
    auto name = obj->find("name");
    if (name == obj->end() || !name->is_string() || name->get<std::string>().empty()) return false;
    ToolCall call;
    call.name = name->get<std::string>();
    if (require_known_name && !tool_names_.empty() &&
        std::find(tool_names_.begin(), tool_names_.end(), call.name) == tool_names_.end()) {
      return false;
    }
    auto args = obj->find("arguments");
    if (args == obj->end()) args = obj->find("parameters");
    if (args != obj->end()) {
      if (args->is_string()) {
        ojson decoded;
        if (!parse_json(args->get<std::string>(), &decoded)) return false;
        call.arguments = std::move(decoded);
      } else {
        call.arguments = *args;
      }
    } else if (require_known_name && obj->size() > 1) {
      return false;  // plain JSON with other keys: ordinary content
    }
    if (!call.arguments.is_object()) return false;
    found.push_back(std::move(call));
  }
  for (auto& c : found) calls->push_back(std::move(c));
  return true;
}

void ToolCallParser::emit_calls(Output* out, std::vector<ToolCall> calls) {
  n_calls_ += calls.size();
  for (auto& c : calls) out->calls.push_back(std::move(c));
}

ToolCallParser::Output ToolCallParser::feed(std::string_view text) {
  Output out;
  pending_.append(text);
  process(&out, false);
  return out;
}

ToolCallParser::Output ToolCallParser::finish() {
  Output out;
  process(&out, true);
  return out;
}

void ToolCallParser::process(Output* out, bool final) {
  for (;;) {
    if (mode_ == Mode::kText) {
      if (at_start_) {
        size_t i = skip_space(pending_);
        if (i == pending_.size()) {
          if (final) {
            out->content += pending_;
            pending_.clear();
          }
          return;  // only whitespace so far: undecided
        }
        if (pending_[i] == '{' || pending_[i] == '[') {
          mode_ = Mode::kJson;
          plain_json_ = true;
          marker_.clear();
          continue;
        }
      }
      size_t best = std::string::npos;
      std::string_view marker;
      for (std::string_view m : kMarkers) {
        size_t at = pending_.find(m);
        if (at < best) {
          best = at;
          marker = m;
        }
      }
      if (best != std::string::npos) {
        out->content += pending_.substr(0, best);
        pending_.erase(0, best + marker.size());
        marker_ = std::string(marker);
        mode_ = marker == kHermesOpen ? Mode::kTagged : Mode::kJson;
        plain_json_ = false;
        continue;
      }
      size_t hold = final ? 0 : partial_marker_tail(pending_);
      if (pending_.size() > hold) {
        out->content += pending_.substr(0, pending_.size() - hold);
        pending_.erase(0, pending_.size() - hold);
        at_start_ = false;
      }
      return;
    }

    if (mode_ == Mode::kTagged) {
      size_t close = pending_.find(kHermesClose);
      if (close == std::string::npos && !final) return;
      std::string body = pending_.substr(0, close);
      std::vector<ToolCall> calls;
      if (interpret(body, false, &calls)) {
        emit_calls(out, std::move(calls));
      } else {
        out->content += marker_ + body + (close == std::string::npos ? "" : std::string(kHermesClose));
        at_start_ = false;
      }
      pending_.erase(0, close == std::string::npos ? pending_.size() : close + kHermesClose.size());
      mode_ = Mode::kText;
      if (final && pending_.empty()) return;
      continue;
    }

    // kJson: a JSON value after a marker, or at the start of the output.
    size_t start = skip_space(pending_);
    std::string name_prefix;
    if (marker_ == kMistral && start < pending_.size() && pending_[start] != '[' && pending_[start] != '{') {
      // Newer Mistral: [TOOL_CALLS]name[ARGS]{...}
      size_t args = pending_.find("[ARGS]", start);
      if (args == std::string::npos) {
        if (!final) return;
      } else {
        name_prefix = pending_.substr(start, args - start);
        start = args + 6;
      }
    }
    if (plain_json_ && start + 1 < pending_.size() && pending_[start] == '{') {
      // Give up early on text that merely starts with a brace.
      size_t k = skip_space(pending_, start + 1);
      if (k < pending_.size() && pending_[k] != '"' && pending_[k] != '}') {
        mode_ = Mode::kText;
        at_start_ = false;
        continue;
      }
    }
    size_t end = json_value_end(std::string_view(pending_).substr(start));
    if (end == std::string::npos && !final) return;
    std::string json_text = end == std::string::npos ? pending_.substr(start) : pending_.substr(start, end);
    std::vector<ToolCall> calls;
    bool ok;
    if (!name_prefix.empty()) {
      ojson args;
      ok = parse_json(json_text, &args) && args.is_object();
      if (ok) calls.push_back(ToolCall{name_prefix, std::move(args)});
    } else {
      ok = interpret(json_text, plain_json_, &calls);
    }
    const size_t consumed = end == std::string::npos ? pending_.size() : start + end;
    if (ok) {
      emit_calls(out, std::move(calls));
      pending_.erase(0, consumed);
      mode_ = Mode::kText;  // at_start_ stays: more calls may follow
    } else if (plain_json_) {
      mode_ = Mode::kText;  // ordinary JSON content: stream it as text
      at_start_ = false;
    } else {
      out->content += marker_ + pending_.substr(0, consumed);
      pending_.erase(0, consumed);
      mode_ = Mode::kText;
      at_start_ = false;
    }
    if (final && pending_.empty()) return;
  }
}

}  // namespace sov::chat
