// The Jinja tree-walking interpreter. One Runtime renders one template once: it owns the
// scopes, the output buffer and the resource counters (output size, steps, recursion
// depth), so a hostile template ends with an error instead of hanging or exhausting memory.
//
// Scoping follows Jinja2: a `for` body gets a fresh scope on every iteration (so `set`
// inside a loop does not leak out, which is why templates use namespace()); macros, call
// blocks, with/set/filter blocks get their own scope whose parent is where they were
// defined; `if` does not scope. Names that Jinja's compile-time analysis makes start out
// undefined in a frame are pre-set on entry (jinja_scopes.h).
// Not thread-safe; the syntax tree it walks is shared read-only.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace sov::chat::jinja {

struct RenderLimits {
  size_t max_output_bytes = 64u << 20;  // also bounds any single string built while rendering
  uint64_t max_steps = 20'000'000;      // evaluations, loop iterations, elements built, bytes built / 16
  int max_depth =
      600;  // nested evaluation (~150 levels of macro recursion, as Python allows; ~0.5 KB stack each)
};

class Runtime {
 public:
  Runtime(const RenderLimits& limits, const Dict& globals, const Dict& context, std::tm now);
  ~Runtime();

  // Renders the template body; `root_undefined` comes from analyze_scopes(). Throws
  // jinja::Error.
  std::string render(const Body& body, const std::vector<std::string>& root_undefined);

  // ---- services for builtins (filters, tests, methods, globals) ----
  Value call(const Value& callee, CallArgs& args);
  Value filter(std::string_view name, const Value& input, CallArgs& args);
  bool test(std::string_view name, const Value& value, CallArgs& args);
  // Jinja's getattr (attribute first, then item) and getitem (item first, then attribute).
  Value getattr(const Value& obj, std::string_view name);
  Value getitem(const Value& obj, const Value& key);
  // Throws when a value of `bytes` bytes would exceed the size limit; charges steps for it.
  void check_size(size_t bytes);
  void count_steps(uint64_t n);
  // Keeps a mutable object (namespace) for the render; its attributes are cleared at the end,
  // which breaks any reference cycle a template built through it.
  void adopt(std::shared_ptr<Object> object) { adopted_.push_back(std::move(object)); }
  const std::tm& now() const { return now_; }
  const RenderLimits& limits() const { return limits_; }

 private:
  struct Scope;
  enum class Flow { kNormal, kBreak, kContinue };
  class ScopeGuard;
  class DepthGuard;
  class CaptureGuard;

  Flow exec_body(const Body& body);
  Flow exec(const Stmt& s);
  Flow exec_if(const Stmt& s);
  Flow exec_for(const Stmt& s, const Value& iterable, int depth0);
  void exec_set_block(const Stmt& s);
  void exec_call_block(const Stmt& s);
  void exec_filter_block(const Stmt& s);
  void exec_with(const Stmt& s);
  std::string capture(const Body& body, Flow* flow);

  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_getitem(const Expr& e);
  void eval_call_args(const Expr& e, size_t first_arg, CallArgs* out);
  Value apply_filter(const Expr& e, const Value& input);

  Value lookup(const std::string& name) const;
  void assign(const Expr& target, const Value& value);
  void set_var(const std::string& name, Value value);
  void enter_frame(const std::vector<std::string>& undefined_names);
  Value make_macro(const Stmt& s, const std::string& name);
  Value call_macro(const Stmt& s, const std::shared_ptr<Scope>& closure, CallArgs& args,
                   const std::string& name);
  void emit(std::string_view text);

  RenderLimits limits_;
  const Dict& globals_;
  const Dict& context_;
  std::tm now_;
  std::shared_ptr<Scope> scope_;
  std::vector<std::shared_ptr<Scope>> pinned_;  // scopes that defined macros (see make_macro)
  std::vector<std::shared_ptr<Object>> adopted_;
  std::string* out_ = nullptr;
  uint64_t steps_ = 0;
  int depth_ = 0;
};

}  // namespace sov::chat::jinja
