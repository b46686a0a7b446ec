#include "chat/repl_input.h"

#include <fmt/format.h>

#include <cctype>

#include "chat/parameters.h"

namespace sov::chat {
namespace {

constexpr std::string_view kQuotes = R"(""")";
constexpr std::string_view kSetSystem = "/set system ";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits off the first word of `s` (after leading space); `s` keeps the rest.
std::string_view next_word(std::string_view* s) {
  *s = trim(*s);
  size_t end = 0;
  while (end < s->size() && !std::isspace(static_cast<unsigned char>((*s)[end]))) ++end;
  std::string_view word = s->substr(0, end);
  *s = trim(s->substr(end));
  return word;
}

ReplCommand error(std::string text) {
  return {ReplCommand::Kind::kError, "", std::move(text)};
}

}  // namespace

std::optional<std::string> InputAssembler::add_line(std::string_view line) {
  if (in_block_) {
    if (line.ends_with(kQuotes)) {
      text_ += "\n";
      text_ += line.substr(0, line.size() - kQuotes.size());
      in_block_ = false;
      return std::exchange(text_, std::string());
    }
    text_ += "\n";
    text_ += line;
    return std::nullopt;
  }
  // Where an opening `"""` may stand: at the start, or after "/set system ".
  std::string_view head = line;
  size_t lead = 0;
  while (lead < head.size() && head[lead] == ' ') ++lead;
  head.remove_prefix(lead);
  size_t open = std::string_view::npos;
  if (head.starts_with(kQuotes)) {
    open = lead;
  } else if (head.starts_with(kSetSystem)) {
    size_t q = kSetSystem.size();
    while (q < head.size() && head[q] == ' ') ++q;
    if (head.substr(q).starts_with(kQuotes)) open = lead + q;
  }
  if (open == std::string_view::npos) return std::string(line);
  std::string before(line.substr(0, open));
  std::string_view after = line.substr(open + kQuotes.size());
  if (after.size() >= kQuotes.size() && after.ends_with(kQuotes)) {  // """one line"""
    return before + std::string(after.substr(0, after.size() - kQuotes.size()));
  }
  in_block_ = true;
  text_ = before + std::string(after);
  return std::nullopt;
}

void InputAssembler::reset() {
  in_block_ = false;
  text_.clear();
}

ReplCommand parse_command(std::string_view input) {
  using Kind = ReplCommand::Kind;
  if (trim(input).empty()) return {Kind::kEmpty, "", ""};
  std::string_view t = input;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  if (!t.starts_with("/")) return {Kind::kMessage, "", std::string(input)};

  std::string_view rest = t;
  std::string_view cmd = next_word(&rest);
  if (cmd == "/bye" || cmd == "/exit") return {Kind::kBye, "", ""};
  if (cmd == "/?" || cmd == "/help") return {Kind::kHelp, std::string(next_word(&rest)), ""};
  if (cmd == "/clear") return {Kind::kClear, "", ""};
  if (cmd == "/save" || cmd == "/load") {
    if (rest.empty()) return error(fmt::format("usage: {} FILE", cmd));
    return {cmd == "/save" ? Kind::kSave : Kind::kLoad, "", std::string(rest)};
  }
  if (cmd == "/show") {
    std::string_view what = next_word(&rest);
    if (what == "info" || what == "parameters" || what == "system" || what == "template")
      return {Kind::kShow, std::string(what), ""};
    return error("usage: /show info|parameters|system|template");
  }
  if (cmd == "/set") {
    std::string_view what = next_word(&rest);
    if (what == "system") {
      std::string_view after = trim(t.substr(t.find("system") + 6));
      if (after.empty()) return error("usage: /set system TEXT");
      return {Kind::kSetSystem, "", std::string(after)};
    }
    if (what == "parameter") {
      std::string_view name = next_word(&rest);
      if (name.empty() || rest.empty())
        return error("usage: /set parameter NAME VALUE (/? set for the list)");
      return {Kind::kSetParameter, std::string(name), std::string(rest)};
    }
    return error("usage: /set parameter NAME VALUE | /set system TEXT");
  }
  return error(fmt::format("unknown command \"{}\" (/? for help)", cmd.substr(0, 40)));
}

std::string repl_help(std::string_view topic) {
  if (topic == "set") {
    std::string out =
        "Available commands:\n"
        "  /set system TEXT           Set the system message (\"\"\" for several lines)\n"
        "  /set parameter NAME VALUE  Set a parameter:\n";
    for (const auto& p : known_parameters()) out += fmt::format("    {:<20}{}\n", p.name, p.help);
    return out;
  }
  if (topic == "show") {
    return "Available commands:\n"
           "  /show info        Architecture, size, quantization, context, template\n"
           "  /show parameters  The parameters in use\n"
           "  /show system      The system message\n"
           "  /show template    The chat template\n";
  }
  return "Available commands:\n"
         "  /set            Set session variables (/? set)\n"
         "  /show           Show model information (/? show)\n"
         "  /clear          Clear the conversation\n"
         "  /save FILE      Save the conversation to a JSON file\n"
         "  /load FILE      Load a conversation from a JSON file\n"
         "  /bye            Exit (or Ctrl-D)\n"
         "  /?, /help       Help for a command\n"
         "\n"
         "Use \"\"\" to begin and end a multi-line message.\n"
         "Ctrl-C stops an answer; at the prompt it clears the line.\n";
}

}  // namespace sov::chat
