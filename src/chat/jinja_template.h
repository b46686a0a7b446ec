// A compiled Jinja2 template: parse once, render many times (thread-safe; each render has
// its own state). Rendering follows Jinja2 3.1 under Hugging Face transformers' settings:
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with loop controls,
// the `generation` tag and transformers' `tojson`, `raise_exception`, `strftime_now`.
//
// Errors are Status values whose message reads "<PythonErrorClass> at line L, column C:
// <message>", e.g. "TemplateSyntaxError at line 3, column 12: unexpected '}'", "UndefinedError
// at line 7, column 5: 'dict object' has no attribute 'content'", or for raise_exception()
// "TemplateError at line 2, column 9: Conversation roles must alternate ...". The code is
// kInvalidArgument, or kResourceExhausted when a render limit (output size, steps, depth)
// stopped the template. No template can crash the process or run unbounded.
#pragma once

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_interp.h"

namespace sov::chat {

struct RenderOptions {
  jinja::RenderLimits limits;
  // The time strftime_now() formats (broken-down local time); unset = the current time.
  std::optional<std::tm> now;
};

class JinjaTemplate {
 public:
  // Parses and checks template source (unknown filters/tests are reported here, as Jinja2
  // does at compile time, except inside `if` blocks and inline ifs).
  static Result<JinjaTemplate> parse(std::string_view source);

  // Renders with `variables` (a JSON object: each key becomes a template variable; key
  // order is kept, which `tojson` output depends on).
  Result<std::string> render(const nlohmann::ordered_json& variables,
                             const RenderOptions& options = {}) const;
  Result<std::string> render(const jinja::Dict& variables, const RenderOptions& options = {}) const;

 private:
  struct Compiled {
    jinja::Body body;
    std::vector<std::string> root_undefined;  // see jinja_scopes.h
  };
  explicit JinjaTemplate(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace sov::chat
