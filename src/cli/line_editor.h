// LineEditor: line input with editing and history (libedit) for `sov run`'s interactive
// chat, on a terminal.
//
// Ctrl-C: the caller owns SIGINT. Its handler (installed without SA_RESTART) sets the flag
// passed to open(); a read interrupted by it returns kInterrupted with the half-typed line
// dropped, so that Ctrl-C at the prompt clears the line instead of ending the program.
// Ctrl-D on an empty line returns kEof.
//
// History is kept in memory and, when a history file is given, loaded at open and appended
// to on every entered line. One LineEditor per process; use it from one thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "base/status.h"

namespace sov::cli {

class LineEditor {
 public:
  enum class Event { kLine, kEof, kInterrupted };

  // stdin must be a terminal. Prompts and echo go to `output_fd` (stdout or stderr).
  // `interrupted` must outlive the editor. `history_file` may be "" (no file).
  static Result<std::unique_ptr<LineEditor>> open(const char* program, int output_fd,
                                                  const std::atomic<bool>* interrupted,
                                                  std::string history_file);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Shows `prompt` and reads one line (without its newline) into *line.
  Event read(const std::string& prompt, std::string* line);
  // Adds an entered input to the history (and the history file).
  void remember(const std::string& input);

  struct Impl;

 private:
  explicit LineEditor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sov::cli
