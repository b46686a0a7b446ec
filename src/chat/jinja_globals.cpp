// Global functions: Jinja's range/dict/namespace/cycler/joiner and the two that Hugging Face
// transformers adds for chat templates, raise_exception() and strftime_now().
#include <ctime>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"

namespace sov::chat::jinja {

namespace {

constexpr int64_t kMaxRange = 100000;  // the sandbox's MAX_RANGE

Value g_range(Runtime& rt, CallArgs& a) {
  if (!a.keyword.empty()) throw_type_error("range() takes no keyword arguments");
  const auto& p = a.positional;
  if (p.empty() || p.size() > 3)
    throw_type_error("range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  int64_t start = 0, stop, step = 1;
  if (p.size() == 1) {
    stop = arg_int(p[0], "range");
  } else {
    start = arg_int(p[0], "range");
    stop = arg_int(p[1], "range");
    if (p.size() == 3) step = arg_int(p[2], "range");
  }
  if (step == 0) throw_value_error("range() arg 3 must not be zero");
  // Length computed in 128-bit arithmetic so extreme bounds cannot overflow.
  __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  __int128 mag = step > 0 ? step : -static_cast<__int128>(step);
  __int128 n = span <= 0 ? 0 : (span + mag - 1) / mag;
  if (n > kMaxRange) {
    throw Error("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  rt.count_steps(static_cast<uint64_t>(n));
  List out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) out.emplace_back(start + i * step);
  return Value::list(std::move(out));
}

// dict(mapping_or_pairs, **kwargs), as Python's dict() and Jinja's namespace() take them.
Dict build_dict(Runtime& rt, CallArgs& a, const char* name) {
  if (a.positional.size() > 1) {
    throw_type_error(std::string(name) + " expected at most 1 argument, got " +
                     std::to_string(a.positional.size()));
  }
  Dict d;
  if (!a.positional.empty()) {
    const Value& src = a.positional[0];
    if (src.is_dict()) {
      d = src.as_dict();
    } else {
      for (const auto& item : iterate(rt, src)) {
        List pair = iterate(rt, item);
        if (pair.size() != 2) {
          throw_value_error("dictionary update sequence element has length " + std::to_string(pair.size()) +
                            "; 2 is required");
        }
        d.set(pair[0], pair[1]);
      }
    }
  }
  for (auto& [k, v] : a.keyword) d.set(Value(k), v);
  return d;
}

Value g_dict(Runtime& rt, CallArgs& a) {
  return Value::dict(build_dict(rt, a, "dict"));
}

Value g_namespace(Runtime& rt, CallArgs& a) {
  auto ns = std::make_shared<Object>();
  ns->type_name = "Namespace";
  ns->mutable_attrs = true;
  ns->attrs = build_dict(rt, a, "namespace");
  rt.adopt(ns);
  return Value::object(std::move(ns));
}

Value g_cycler(Runtime&, CallArgs& a) {
  if (a.positional.empty()) throw Error("RuntimeError", "at least one item has to be provided");
  struct State {
    List items;
    size_t pos = 0;
  };
  auto state = std::make_shared<State>();
  state->items = a.positional;
  auto obj = std::make_shared<Object>();
  obj->type_name = "Cycler";
  obj->attrs.set(Value("next"), Value::callable("next", [state](Runtime&, CallArgs&) -> Value {
                   Value v = state->items[state->pos];
                   state->pos = (state->pos + 1) % state->items.size();
                   return v;
                 }));
  obj->attrs.set(Value("reset"), Value::callable("reset", [state](Runtime&, CallArgs&) -> Value {
                   state->pos = 0;
                   return Value::none();
                 }));
  obj->dynamic_attr = [state](std::string_view name) -> Value {
    if (name == "current") return state->items[state->pos];
    return Value();
  };
  return Value::object(std::move(obj));
}

Value g_joiner(Runtime&, CallArgs& a) {
  ArgBinder b(a, "joiner", {"sep"});
  std::string sep = b.get(0) ? to_str(*b.get(0)) : ", ";
  auto used = std::make_shared<bool>(false);
  auto obj = std::make_shared<Object>();
  obj->type_name = "Joiner";
  obj->call = [sep, used](Runtime&, CallArgs&) -> Value {
    if (!*used) {
      *used = true;
      return Value("");
    }
    return Value(sep);
  };
  return Value::object(std::move(obj));
}

Value g_raise_exception(Runtime&, CallArgs& a) {
  ArgBinder b(a, "raise_exception", {"message"});
  throw Error("TemplateError", b.get(0) ? to_str(*b.get(0)) : "");
}

Value g_strftime_now(Runtime& rt, CallArgs& a) {
  ArgBinder b(a, "strftime_now", {"format"});
  if (!b.get(0)) throw_type_error("strftime_now() missing 1 required positional argument: 'format'");
  std::string fmt = arg_string(*b.get(0), "strftime() argument 1");
  if (fmt.size() > 1000) throw_value_error("format string too long");
  std::string out(4096, '\0');
  size_t n = fmt.empty() ? 0 : std::strftime(out.data(), out.size(), fmt.c_str(), &rt.now());
  out.resize(n);
  return Value(std::move(out));
}

}  // namespace

Dict make_globals() {
  Dict g;
  g.set(Value("range"), Value::callable("range", g_range));
  g.set(Value("dict"), Value::callable("dict", g_dict));
  g.set(Value("namespace"), Value::callable("namespace", g_namespace));
  g.set(Value("cycler"), Value::callable("cycler", g_cycler));
  g.set(Value("joiner"), Value::callable("joiner", g_joiner));
  g.set(Value("raise_exception"), Value::callable("raise_exception", g_raise_exception));
  g.set(Value("strftime_now"), Value::callable("strftime_now", g_strftime_now));
  return g;
}

}  // namespace sov::chat::jinja
