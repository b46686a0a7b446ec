// What the user types in `sov run`'s interactive chat, without any terminal code:
//
//   InputAssembler   joins lines into one input. A line that starts with `"""` (or
//                    `/set system """`) opens a multi-line block that ends at a line ending
//                    with `"""`; the quotes are removed and the lines joined with '\n'.
//   parse_command    one input -> a message or a slash command (/set parameter NAME VALUE,
//                    /set system TEXT, /show info|parameters|system|template, /clear,
//                    /save FILE, /load FILE, /bye, /? or /help).
//
// Pure functions and a small value type; not synchronised.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sov::chat {

class InputAssembler {
 public:
  // Adds one line (without its newline). Returns the complete input when the line ends it.
  std::optional<std::string> add_line(std::string_view line);
  // Inside a `"""` block: the prompt should show a continuation marker.
  bool in_block() const { return in_block_; }
  // Drops a half-typed block (Ctrl-C).
  void reset();

 private:
  bool in_block_ = false;
  std::string text_;
};

struct ReplCommand {
  enum class Kind {
    kMessage,       // text: the message
    kEmpty,         // nothing typed
    kSetParameter,  // name, text (the value)
    kSetSystem,     // text
    kShow,          // name: info, parameters, system or template
    kClear,
    kSave,  // text: file
    kLoad,  // text: file
    kBye,
    kHelp,   // name: "" or the topic (set, show)
    kError,  // text: what is wrong (unknown command, missing argument)
  };
  Kind kind = Kind::kEmpty;
  std::string name;
  std::string text;
};

ReplCommand parse_command(std::string_view input);

// The /? text (topic "", "set" or "show").
std::string repl_help(std::string_view topic);

}  // namespace sov::chat
