// The error raised inside the Jinja lexer, parser and interpreter. It never leaves the
// module: the public entry points (jinja_template.h) catch it and return a Status.
//
// `type` names the Python exception Jinja2 would raise ("TemplateSyntaxError", "TypeError",
// "UndefinedError", "TemplateError" for raise_exception(), ...), so callers and tests can
// tell the kinds apart. Line and column are 1-based; 0 when not known yet (the interpreter
// fills them in from the innermost node being evaluated).
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace sov::chat::jinja {

class Error : public std::exception {
 public:
  Error(std::string type, std::string message, int line = 0, int column = 0)
      : type_(std::move(type)), message_(std::move(message)), line_(line), column_(column) {}

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& type() const { return type_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }
  void set_location(int line, int column) {
    if (line_ == 0) {
      line_ = line;
      column_ = column;
    }
  }
  // "TypeError at line 3, column 7: message"
  std::string to_string() const;

 private:
  std::string type_;
  std::string message_;
  int line_;
  int column_;
};

[[noreturn]] inline void throw_type_error(std::string message) {
  throw Error("TypeError", std::move(message));
}
[[noreturn]] inline void throw_value_error(std::string message) {
  throw Error("ValueError", std::move(message));
}

}  // namespace sov::chat::jinja
