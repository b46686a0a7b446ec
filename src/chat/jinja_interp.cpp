#include "chat/jinja_interp.h"

#include <optional>
#include <utility>
#include <vector>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"

namespace sov::chat::jinja {

struct Runtime::Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  Value* find(const std::string& name) {
    for (auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void set(const std::string& name, Value value) {
    if (Value* v = find(name)) {
      *v = std::move(value);
    } else {
      vars.emplace_back(name, std::move(value));
    }
  }
};

// Enters a new scope (child of `parent`) and restores the previous one on exit.
class Runtime::ScopeGuard {
 public:
  ScopeGuard(Runtime* rt, std::shared_ptr<Scope> parent) : rt_(rt), saved_(rt->scope_) {
    rt->scope_ = std::make_shared<Scope>();
    rt->scope_->parent = std::move(parent);
  }
  ~ScopeGuard() { rt_->scope_ = std::move(saved_); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  Runtime* rt_;
  std::shared_ptr<Scope> saved_;
};

class Runtime::DepthGuard {
 public:
  explicit DepthGuard(Runtime* rt) : rt_(rt) {
    if (++rt_->depth_ > rt_->limits_.max_depth) {
      --rt_->depth_;
      throw Error("RecursionError", "maximum recursion depth exceeded");
    }
  }
  ~DepthGuard() { --rt_->depth_; }

 private:
  Runtime* rt_;
};

// Redirects output into `buffer` while alive.
class Runtime::CaptureGuard {
 public:
  CaptureGuard(Runtime* rt, std::string* buffer) : rt_(rt), saved_(rt->out_) { rt->out_ = buffer; }
  ~CaptureGuard() { rt_->out_ = saved_; }

 private:
  Runtime* rt_;
  std::string* saved_;
};

Runtime::Runtime(const RenderLimits& limits, const Dict& globals, const Dict& context, std::tm now)
    : limits_(limits), globals_(globals), context_(context), now_(now) {}

Runtime::~Runtime() {
  // Objects first lose their attributes while all of them are still alive, so no
  // destructor cascades through a long chain or around a cycle.
  for (auto& obj : adopted_) obj->attrs = Dict();
  scope_.reset();
  pinned_.clear();
}

std::string Runtime::render(const Body& body, const std::vector<std::string>& root_undefined) {
  std::string out;
  out_ = &out;
  scope_ = std::make_shared<Scope>();
  enter_frame(root_undefined);
  exec_body(body);
  out_ = nullptr;
  return out;
}

void Runtime::check_size(size_t bytes) {
  count_steps(bytes / 16);  // building text is work too (bounds the memory strings can take)
  if (bytes > limits_.max_output_bytes) {
    throw Error("ResourceLimit", "value of " + std::to_string(bytes) + " bytes exceeds the limit of " +
                                     std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Runtime::count_steps(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    throw Error("ResourceLimit",
                "template exceeded the limit of " + std::to_string(limits_.max_steps) + " steps");
  }
}

void Runtime::emit(std::string_view text) {
  count_steps(text.size() / 16);
  if (out_->size() + text.size() > limits_.max_output_bytes) {
    throw Error("ResourceLimit",
                "output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
  out_->append(text);
}

// ---------------------------------------------------------------- statements

Runtime::Flow Runtime::exec_body(const Body& body) {
  for (const auto& s : body) {
    Flow f = exec(*s);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Runtime::Flow Runtime::exec(const Stmt& s) {
  DepthGuard depth(this);
  count_steps(1);
  try {
    switch (s.kind) {
      case StmtKind::kData: emit(s.text); break;
      case StmtKind::kPrint: {
        Value v = eval(*s.expr);
        if (v.is_string()) {
          emit(v.as_string());
        } else {
          emit(to_str(v));
        }
        break;
      }
      case StmtKind::kIf: return exec_if(s);
      case StmtKind::kFor: exec_for(s, eval(*s.expr), 0); break;
      case StmtKind::kSet: assign(*s.target, eval(*s.expr)); break;
      case StmtKind::kSetBlock: exec_set_block(s); break;
      case StmtKind::kMacro: set_var(s.text, make_macro(s, s.text)); break;
      case StmtKind::kCallBlock: exec_call_block(s); break;
      case StmtKind::kFilterBlock: exec_filter_block(s); break;
      case StmtKind::kWith: exec_with(s); break;
      case StmtKind::kScope: {
        ScopeGuard scope(this, scope_);
        enter_frame(s.frame_undefined);
        return exec_body(s.body);
      }
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
    }
  } catch (Error& err) {
    err.set_location(s.line, s.column);
    throw;
  }
  return Flow::kNormal;
}

Runtime::Flow Runtime::exec_if(const Stmt& s) {
  if (truthy(eval(*s.expr))) return exec_body(s.body);
  return exec_body(s.else_body);
}

Runtime::Flow Runtime::exec_for(const Stmt& s, const Value& iterable, int depth0) {
  List items = iterate(*this, iterable);
  std::shared_ptr<Scope> parent = scope_;
  if (s.cond) {
    List kept;
    for (auto& item : items) {
      count_steps(1);
      ScopeGuard scope(this, parent);
      assign(*s.target, item);
      if (truthy(eval(*s.cond))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const auto n = static_cast<int64_t>(items.size());
  auto last_changed = std::make_shared<std::optional<List>>();
  bool completed_any = false;
  for (int64_t i = 0; i < n; ++i) {
    count_steps(1);
    ScopeGuard scope(this, parent);
    enter_frame(s.frame_undefined);
    assign(*s.target, items[i]);
    auto loop = std::make_shared<Object>();
    loop->type_name = "LoopContext";
    Dict& a = loop->attrs;
    a.set("index0", Value(i));
    a.set("index", Value(i + 1));
    a.set("revindex0", Value(n - i - 1));
    a.set("revindex", Value(n - i));
    a.set("first", Value(i == 0));
    a.set("last", Value(i == n - 1));
    a.set("length", Value(n));
    a.set("depth0", Value(depth0));
    a.set("depth", Value(depth0 + 1));
    if (i > 0) a.set("previtem", items[i - 1]);
    if (i + 1 < n) a.set("nextitem", items[i + 1]);
    a.set("cycle", Value::callable("cycle", [i](Runtime&, CallArgs& args) -> Value {
            if (args.positional.empty()) throw_type_error("no items for cycling given");
            return args.positional[static_cast<size_t>(i) % args.positional.size()];
          }));
    a.set("changed", Value::callable("changed", [last_changed](Runtime&, CallArgs& args) -> Value {
            List now = args.positional;
            if (*last_changed) {
              bool same = now.size() == (*last_changed)->size();
              for (size_t k = 0; same && k < now.size(); ++k) same = equals(now[k], (**last_changed)[k]);
              if (same) return Value(false);
            }
            *last_changed = std::move(now);
            return Value(true);
          }));
    if (s.recursive) {
      const Stmt* stmt = &s;
      loop->call = [stmt, depth0](Runtime& rt, CallArgs& args) -> Value {
        if (args.positional.size() != 1) throw_type_error("loop() takes exactly one argument");
        std::string buffer;
        CaptureGuard capture(&rt, &buffer);
        rt.exec_for(*stmt, args.positional[0], depth0 + 1);
        return Value(std::move(buffer));
      };
    }
    set_var("loop", Value::object(std::move(loop)));
    Flow flow = exec_body(s.body);
    if (flow == Flow::kNormal) completed_any = true;
    if (flow == Flow::kBreak) break;
  }
  // Jinja runs `else` when no iteration reached the end of the body (an empty loop, or
  // every iteration left through break/continue).
  if (!completed_any && !s.else_body.empty()) {
    ScopeGuard scope(this, parent);
    enter_frame(s.else_frame_undefined);
    exec_body(s.else_body);
  }
  return Flow::kNormal;
}

std::string Runtime::capture(const Body& body, Flow* flow) {
  std::string buffer;
  CaptureGuard capture(this, &buffer);
  Flow f = exec_body(body);
  if (flow) *flow = f;
  return buffer;
}

void Runtime::exec_set_block(const Stmt& s) {
  Value v;
  {
    ScopeGuard scope(this, scope_);  // the block body is a frame of its own
    enter_frame(s.frame_undefined);
    v = Value(capture(s.body, nullptr));
    for (const auto& f : s.filters) v = apply_filter(*f, v);
  }
  assign(*s.target, v);
}

void Runtime::exec_filter_block(const Stmt& s) {
  ScopeGuard scope(this, scope_);
  enter_frame(s.frame_undefined);
  Value v(capture(s.body, nullptr));
  for (const auto& f : s.filters) v = apply_filter(*f, v);
  emit(to_str(v));
}

void Runtime::exec_with(const Stmt& s) {
  std::vector<Value> values;
  for (const auto& v : s.values) values.push_back(eval(*v));
  ScopeGuard scope(this, scope_);
  enter_frame(s.frame_undefined);
  for (size_t i = 0; i < s.targets.size(); ++i) assign(*s.targets[i], values[i]);
  exec_body(s.body);
}

void Runtime::exec_call_block(const Stmt& s) {
  Value caller = make_macro(s, "caller");
  const Expr& call = *s.expr;
  CallArgs args;
  Value fn;
  const Expr& callee = *call.args[0];
  fn = eval(callee);
  eval_call_args(call, 1, &args);
  args.keyword.emplace_back("caller", std::move(caller));
  Value result = this->call(fn, args);
  emit(to_str(result));
}

// ---------------------------------------------------------------- variables and macros

Value Runtime::lookup(const std::string& name) const {
  for (Scope* s = scope_.get(); s; s = s->parent.get()) {
    if (Value* v = s->find(name)) return *v;
  }
  if (const Value* v = context_.find(std::string_view(name))) return *v;
  if (const Value* v = globals_.find(std::string_view(name))) return *v;
  return Value::undefined(repr_string(name) + " is undefined");
}

void Runtime::set_var(const std::string& name, Value value) {
  scope_->set(name, std::move(value));
}

void Runtime::enter_frame(const std::vector<std::string>& undefined_names) {
  for (const auto& name : undefined_names)
    set_var(name, Value::undefined(repr_string(name) + " is undefined"));
}

void Runtime::assign(const Expr& target, const Value& value) {
  switch (target.kind) {
    case ExprKind::kName: set_var(target.name, value); return;
    case ExprKind::kTuple: {
      List values = iterate(*this, value);
      size_t want = target.args.size();
      if (values.size() < want) {
        throw_value_error("not enough values to unpack (expected " + std::to_string(want) + ", got " +
                          std::to_string(values.size()) + ")");
      }
      if (values.size() > want)
        throw_value_error("too many values to unpack (expected " + std::to_string(want) + ")");
      for (size_t i = 0; i < want; ++i) assign(*target.args[i], values[i]);
      return;
    }
    case ExprKind::kGetattr: {
      Value ns = lookup(target.args[0]->name);
      if (!ns.is_object() || !ns.as_object().mutable_attrs) {
        throw Error("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
      }
      ns.as_object().attrs.set(Value(target.name), value);
      return;
    }
    default: throw Error("TemplateSyntaxError", "can't assign to this expression");
  }
}

Value Runtime::make_macro(const Stmt& s, const std::string& name) {
  // The macro refers to its defining scope without owning it (a scope holding the macro
  // would otherwise own itself); the Runtime keeps such scopes alive for the whole render.
  pinned_.push_back(scope_);
  std::weak_ptr<Scope> closure = scope_;
  const Stmt* stmt = &s;
  return Value::callable(
      name,
      [stmt, closure, name](Runtime& rt, CallArgs& args) -> Value {
        return rt.call_macro(*stmt, closure.lock(), args, name);
      },
      true);
}

Value Runtime::call_macro(const Stmt& s, const std::shared_ptr<Scope>& closure, CallArgs& args,
                          const std::string& name) {
  DepthGuard depth(this);
  ScopeGuard scope(this, closure);
  enter_frame(s.frame_undefined);
  const size_t np = s.params.size();
  std::vector<bool> bound(np, false);
  for (size_t i = 0; i < args.positional.size() && i < np; ++i) {
    set_var(s.params[i], args.positional[i]);
    bound[i] = true;
  }
  List varargs;
  for (size_t i = np; i < args.positional.size(); ++i) varargs.push_back(args.positional[i]);
  if (!varargs.empty() && !s.uses_varargs) {
    throw_type_error("macro '" + name + "' takes not more than " + std::to_string(np) + " argument(s)");
  }
  Dict kwargs;
  Value caller = Value::undefined("No caller defined");
  for (auto& [key, value] : args.keyword) {
    size_t idx = np;
    for (size_t i = 0; i < np; ++i) {
      if (s.params[i] == key) idx = i;
    }
    if (idx < np) {
      if (bound[idx]) throw_type_error("macro '" + name + "' got multiple values for argument '" + key + "'");
      set_var(key, value);
      bound[idx] = true;
    } else if (key == "caller" && s.uses_caller) {
      caller = value;
    } else if (s.uses_kwargs) {
      kwargs.set(Value(key), value);
    } else {
      throw_type_error("macro '" + name + "' takes no keyword argument '" + key + "'");
    }
  }
  for (size_t i = 0; i < np; ++i) {
    if (bound[i]) continue;
    if (i < s.defaults.size() && s.defaults[i]) {
      set_var(s.params[i], eval(*s.defaults[i]));
    } else {
      set_var(s.params[i], Value::undefined("parameter " + repr_string(s.params[i]) + " was not provided"));
    }
  }
  if (s.uses_varargs) set_var("varargs", Value::tuple(std::move(varargs)));
  if (s.uses_kwargs) set_var("kwargs", Value::dict(std::move(kwargs)));
  if (s.uses_caller) set_var("caller", caller);
  return Value(capture(s.body, nullptr));
}

// ---------------------------------------------------------------- expressions

Value Runtime::eval(const Expr& e) {
  DepthGuard depth(this);
  count_steps(1);
  try {
    return eval_inner(e);
  } catch (Error& err) {
    err.set_location(e.line, e.column);
    throw;
  }
}

Value Runtime::eval_inner(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kConst: return e.value;
    case ExprKind::kName: return lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      List items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a));
      return e.kind == ExprKind::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      Dict d;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value key = eval(*e.args[i]);
        if (key.is_list() && !key.is_tuple()) throw_type_error("unhashable type: 'list'");
        if (key.is_dict() || key.is_undefined())
          throw_type_error("unhashable type: '" + type_name(key) + "'");
        d.set(std::move(key), eval(*e.args[i + 1]));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetattr: return getattr(eval(*e.args[0]), e.name);
    case ExprKind::kGetitem: return eval_getitem(e);
    case ExprKind::kSlice: throw Error("TemplateSyntaxError", "slice outside of a subscript");
    case ExprKind::kCall: return eval_call(e);
    case ExprKind::kFilter: return apply_filter(e, eval(*e.args[0]));
    case ExprKind::kTest: {
      Value v = eval(*e.args[0]);
      CallArgs args;
      eval_call_args(e, 1, &args);
      return Value(test(e.name, v, args));
    }
    case ExprKind::kNot: return Value(!truthy(eval(*e.args[0])));
    case ExprKind::kNeg:
    case ExprKind::kPos: return negate(eval(*e.args[0]), e.kind == ExprKind::kPos);
    case ExprKind::kBinary: {
      Value a = eval(*e.args[0]);
      Value b = eval(*e.args[1]);
      return binary_op(*this, e.name, a, b);
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? eval(*e.args[1]) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? a : eval(*e.args[1]);
    }
    case ExprKind::kCompare: return eval_compare(e);
    case ExprKind::kCond:
      if (truthy(eval(*e.args[0]))) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
  }
  return Value();
}

Value Runtime::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1]);
    const std::string& op = e.ops[i];
    bool ok;
    if (op == "==") {
      ok = equals(left, right);
    } else if (op == "!=") {
      ok = !equals(left, right);
    } else if (op == "in") {
      ok = contains(right, left);
    } else if (op == "notin") {
      ok = !contains(right, left);
    } else {
      // Jinja's Undefined raises on ordering comparisons.
      if (left.is_undefined()) fail_undefined(left);
      if (right.is_undefined()) fail_undefined(right);
      int c;
      try {
        c = compare(left, right);
      } catch (Error&) {
        throw_type_error("'" + op + "' not supported between instances of '" + type_name(left) + "' and '" +
                         type_name(right) + "'");
      }
      ok = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!ok) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Runtime::eval_getitem(const Expr& e) {
  Value obj = eval(*e.args[0]);
  const Expr& key = *e.args[1];
  if (key.kind != ExprKind::kSlice) return getitem(obj, eval(key));
  Value parts[3];
  for (int i = 0; i < 3; ++i) parts[i] = key.args[i] ? eval(*key.args[i]) : Value::none();
  // Jinja compiles slices to a plain Python subscript (no sandbox getitem fallback).
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_string() || (obj.is_list() && !obj.is_generator())) {
    return slice(obj, parts[0], parts[1], parts[2]);
  }
  if (obj.is_dict()) throw_type_error("unhashable type: 'slice'");
  throw_type_error("'" + type_name(obj) + "' object is not subscriptable");
}

void Runtime::eval_call_args(const Expr& e, size_t first_arg, CallArgs* out) {
  for (size_t i = first_arg; i < e.args.size(); ++i) out->positional.push_back(eval(*e.args[i]));
  if (e.dyn_args) {
    for (auto& v : iterate(*this, eval(*e.dyn_args))) out->positional.push_back(std::move(v));
  }
  for (const auto& [key, value] : e.kwargs) out->keyword.emplace_back(key, eval(*value));
  if (e.dyn_kwargs) {
    Value d = eval(*e.dyn_kwargs);
    if (!d.is_dict()) throw_type_error("argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.as_dict().items()) {
      if (!k.is_string()) throw_type_error("keywords must be strings");
      out->keyword.emplace_back(k.as_string(), v);
    }
  }
}

Value Runtime::eval_call(const Expr& e) {
  const Expr& callee = *e.args[0];
  CallArgs args;
  if (callee.kind == ExprKind::kGetattr) {
    // obj.method(...): dispatch Python methods directly.
    Value obj = eval(*callee.args[0]);
    MethodKind kind = obj.is_undefined() ? MethodKind::kNone : find_method(obj, callee.name);
    if (kind == MethodKind::kSafe) {
      eval_call_args(e, 1, &args);
      return call_method(*this, obj, callee.name, args);
    }
    Value fn = getattr(obj, callee.name);
    eval_call_args(e, 1, &args);
    return call(fn, args);
  }
  Value fn = eval(callee);
  eval_call_args(e, 1, &args);
  return call(fn, args);
}

Value Runtime::apply_filter(const Expr& e, const Value& input) {
  CallArgs args;
  eval_call_args(e, 1, &args);
  return filter(e.name, input, args);
}

// ---------------------------------------------------------------- services

Value Runtime::call(const Value& callee, CallArgs& args) {
  switch (callee.kind()) {
    case Kind::kCallable: return callee.as_callable().fn(*this, args);
    case Kind::kObject:
      if (callee.as_object().call) return callee.as_object().call(*this, args);
      break;
    case Kind::kUndefined: fail_undefined(callee);
    default: break;
  }
  throw_type_error("'" + type_name(callee) + "' object is not callable");
}

Value Runtime::filter(std::string_view name, const Value& input, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) throw Error("TemplateRuntimeError", "No filter named '" + std::string(name) + "' found.");
  Value result = f(*this, input, args);
  if (result.is_string()) check_size(result.as_string().size());
  return result;
}

bool Runtime::test(std::string_view name, const Value& value, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) throw Error("TemplateRuntimeError", "No test named '" + std::string(name) + "' found.");
  return t(*this, value, args);
}

namespace {

Value missing_attribute(const Value& obj, std::string_view name) {
  return Value::undefined(repr_string(object_type_repr(obj)) + " has no attribute " + repr_string(name));
}

Value bound_method(const Value& obj, std::string_view name, MethodKind kind) {
  if (kind == MethodKind::kUnsafe) {
    return Value::undefined("access to attribute " + repr_string(name) + " of " +
                                repr_string(type_name(obj)) + " object is unsafe.",
                            "SecurityError");
  }
  std::string method(name);
  return Value::callable(method, [obj, method](Runtime& rt, CallArgs& args) -> Value {
    return call_method(rt, obj, method, args);
  });
}

}  // namespace

Value Runtime::getattr(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Kind::kUndefined: fail_undefined(obj);
    case Kind::kDict: {
      MethodKind kind = find_method(obj, name);
      if (kind != MethodKind::kNone) return bound_method(obj, name, kind);
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return missing_attribute(obj, name);
    }
    case Kind::kObject: {
      const Object& o = obj.as_object();
      if (const Value* v = o.attrs.find(name)) return *v;
      if (o.dynamic_attr) {
        Value v = o.dynamic_attr(name);
        if (!v.is_undefined()) return v;
      }
      return missing_attribute(obj, name);
    }
    default: {
      MethodKind kind = find_method(obj, name);
      if (kind != MethodKind::kNone) return bound_method(obj, name, kind);
      return missing_attribute(obj, name);
    }
  }
}

Value Runtime::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::kUndefined: fail_undefined(obj);
    case Kind::kDict:
      if (!key.is_dict() && !(key.is_list() && !key.is_tuple())) {
        if (const Value* v = obj.as_dict().find(key)) return *v;
      }
      break;
    case Kind::kList:
    case Kind::kString:
      if ((key.is_int() || key.is_bool()) && !obj.is_generator()) {
        int64_t n = length(obj);
        int64_t i = key.to_int();
        if (i < 0) i += n;
        if (i >= 0 && i < n) {
          if (obj.is_list()) return obj.as_list()[static_cast<size_t>(i)];
          return slice(obj, Value(i), Value(i + 1), Value::none());
        }
        return Value::undefined(repr_string(object_type_repr(obj)) + " has no element " +
                                std::to_string(key.to_int()));
      }
      break;
    default: break;
  }
  if (key.is_string()) return getattr(obj, key.as_string());
  return Value::undefined(repr_string(object_type_repr(obj)) + " has no element " + repr(key));
}

}  // namespace sov::chat::jinja
