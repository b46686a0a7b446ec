// Built-in operations of the Jinja interpreter, each group in its own file:
//   jinja_ops.cpp        operators, iteration, membership, indexing and slicing
//   jinja_filters.cpp    `x | filter(...)`
//   jinja_predicates.cpp `x is test(...)`
//   jinja_methods.cpp    Python methods on str / dict / list (`s.strip()`, `d.items()`)
//   jinja_globals.cpp    range, namespace, dict, cycler, joiner, raise_exception, strftime_now
// All of them throw jinja::Error on misuse, with Python's exception class and wording.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_value.h"

namespace sov::chat::jinja {

// ---- argument binding (Python signature semantics) ----
class ArgBinder {
 public:
  // Binds `args` to parameters `names`; extra positional or unknown keyword arguments are a
  // TypeError unless allowed (then available from extra_positional / extra_keyword).
  ArgBinder(CallArgs& args, std::string_view function, std::initializer_list<std::string_view> names,
            bool allow_extra_positional = false, bool allow_extra_keyword = false);
  // The value bound to parameter i, or nullptr when not given.
  const Value* get(size_t i) const { return bound_[i]; }
  Value get_or(size_t i, Value fallback) const { return bound_[i] ? *bound_[i] : std::move(fallback); }
  const std::vector<Value>& extra_positional() const { return extra_positional_; }
  const std::vector<std::pair<std::string, Value>>& extra_keyword() const { return extra_keyword_; }

 private:
  std::vector<const Value*> bound_;
  std::vector<Value> extra_positional_;
  std::vector<std::pair<std::string, Value>> extra_keyword_;
};

// Argument conversion helpers (TypeError with the function name on mismatch).
int64_t arg_int(const Value& v, std::string_view what);
std::string arg_string(const Value& v, std::string_view what);
std::optional<std::string> arg_optional_string(const Value* v, std::string_view what);

// ---- operators (jinja_ops.cpp) ----
// Binary operators + - * / // % ** and ~ with Python semantics.
Value binary_op(Runtime& rt, std::string_view op, const Value& a, const Value& b);
Value negate(const Value& v, bool positive);
// Python `item in container` (undefined containers hold nothing).
bool contains(const Value& container, const Value& item);
// Python iteration: list/tuple items, dict keys, str code points; undefined -> empty.
// Throws TypeError "'NoneType' object is not iterable" for the rest. Each element produced
// costs a step (bounding the memory a template can build).
List iterate(Runtime& rt, const Value& v);
// Python len(); TypeError when the value has none.
int64_t length(const Value& v);
// v[start:stop:step] for str/list/tuple; `none` fields are missing bounds.
Value slice(const Value& v, const Value& start, const Value& stop, const Value& step);
// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(std::string_view s);
// Python str % args.
std::string percent_format(Runtime& rt, const std::string& fmt, const Value& args);
// Python str.format(*args, **kwargs).
std::string str_format(Runtime& rt, const std::string& fmt, CallArgs& args);
// Raises UndefinedError (or the undefined's own error class) for misuse of `v`.
[[noreturn]] void fail_undefined(const Value& v);

// ---- filters and tests ----
using FilterFn = Value (*)(Runtime& rt, const Value& input, CallArgs& args);
using TestFn = bool (*)(Runtime& rt, const Value& value, CallArgs& args);
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// ---- methods ----
enum class MethodKind { kNone, kSafe, kUnsafe };
// Whether `name` is a Python method of obj's type (kUnsafe: mutating, blocked by the sandbox).
MethodKind find_method(const Value& obj, std::string_view name);
Value call_method(Runtime& rt, const Value& obj, std::string_view name, CallArgs& args);

// ---- globals ----
// The global functions every template sees.
Dict make_globals();

}  // namespace sov::chat::jinja
