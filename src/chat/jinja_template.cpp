#include "chat/jinja_template.h"

#include <new>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_json.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_scopes.h"

namespace sov::chat {

namespace {

using jinja::Body;
using jinja::Expr;
using jinja::ExprKind;
using jinja::Stmt;
using jinja::StmtKind;

// Jinja2 refuses unknown filters and tests when compiling, except in "soft" frames: an if
// statement (its tests and bodies) and inline if-expressions, where the error waits for
// run time. Nested loops, macros and blocks open hard frames again.
void check_expr(const Expr* e, bool soft) {
  if (!e) return;
  if (e->kind == ExprKind::kCond) soft = true;
  if (!soft && e->kind == ExprKind::kFilter && !jinja::find_filter(e->name)) {
    throw jinja::Error("TemplateAssertionError", "No filter named '" + e->name + "'.", e->line, e->column);
  }
  if (!soft && e->kind == ExprKind::kTest && !jinja::find_test(e->name)) {
    throw jinja::Error("TemplateAssertionError", "No test named '" + e->name + "'.", e->line, e->column);
  }
  for (const auto& a : e->args) check_expr(a.get(), soft);
  for (const auto& kv : e->kwargs) check_expr(kv.second.get(), soft);
  check_expr(e->dyn_args.get(), soft);
  check_expr(e->dyn_kwargs.get(), soft);
}

void check_body(const Body& body, bool soft);

void check_stmt(const Stmt& s, bool soft) {
  switch (s.kind) {
    case StmtKind::kIf:
      check_expr(s.expr.get(), true);
      check_body(s.body, true);
      check_body(s.else_body, true);
      return;
    case StmtKind::kFor:
      check_expr(s.expr.get(), soft);
      check_expr(s.cond.get(), false);
      check_body(s.body, false);
      check_body(s.else_body, false);
      return;
    case StmtKind::kFilterBlock:
    case StmtKind::kSetBlock:
      for (const auto& f : s.filters) check_expr(f.get(), s.kind == StmtKind::kFilterBlock ? soft : false);
      check_body(s.body, false);
      return;
    case StmtKind::kCallBlock: check_expr(s.expr.get(), soft); [[fallthrough]];
    case StmtKind::kMacro:
      for (const auto& d : s.defaults) check_expr(d.get(), false);
      check_body(s.body, false);
      return;
    case StmtKind::kWith:
      for (const auto& v : s.values) check_expr(v.get(), soft);
      check_body(s.body, false);
      return;
    case StmtKind::kScope: check_body(s.body, false); return;
    default: check_expr(s.expr.get(), soft); return;
  }
}

void check_body(const Body& body, bool soft) {
  for (const auto& s : body) check_stmt(*s, soft);
}

Status to_status(const jinja::Error& e) {
  bool limit = e.type() == "ResourceLimit" || e.type() == "RecursionError";
  return Status(limit ? ErrorCode::kResourceExhausted : ErrorCode::kInvalidArgument, e.to_string());
}

std::tm current_time() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

}  // namespace

Result<JinjaTemplate> JinjaTemplate::parse(std::string_view source) {
  try {
    auto compiled = std::make_shared<Compiled>();
    compiled->body = jinja::parse(jinja::tokenize(source));
    check_body(compiled->body, false);
    compiled->root_undefined = jinja::analyze_scopes(compiled->body);
    return JinjaTemplate(std::move(compiled));
  } catch (const jinja::Error& e) {
    return to_status(e);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("out of memory while parsing the template");
  } catch (const std::exception& e) {
    return Status::internal(std::string("template parser failed: ") + e.what());
  }
}

Result<std::string> JinjaTemplate::render(const nlohmann::ordered_json& variables,
                                          const RenderOptions& options) const {
  if (!variables.is_object()) return Status::invalid_argument("template variables must be a JSON object");
  jinja::Dict vars;
  try {
    for (const auto& [k, v] : variables.items()) vars.set(jinja::Value(k), jinja::from_json(v));
  } catch (const jinja::Error& e) {
    return to_status(e);
  }
  return render(vars, options);
}

Result<std::string> JinjaTemplate::render(const jinja::Dict& variables, const RenderOptions& options) const {
  try {
    static const jinja::Dict kGlobals = jinja::make_globals();
    jinja::Runtime rt(options.limits, kGlobals, variables, options.now ? *options.now : current_time());
    return rt.render(compiled_->body, compiled_->root_undefined);
  } catch (const jinja::Error& e) {
    return to_status(e);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("out of memory while rendering the template");
  } catch (const std::exception& e) {
    return Status::internal(std::string("template rendering failed: ") + e.what());
  }
}

}  // namespace sov::chat
