// Values of the Jinja interpreter: Python-like dynamic values (undefined, None, bool, int,
// float, str, list/tuple, dict, callables and attribute objects such as namespace()).
//
// Lists and dicts are shared and immutable once built (the sandbox forbids mutation), so a
// Value copy is cheap. The only mutable value is an Object with mutable attributes
// (namespace()), shared by reference as in Python. Strings are UTF-8; operations that Python
// defines on code points (len, index, slice) decode on demand. Not thread-safe to mutate a
// shared namespace from two threads; a render uses its own values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sov::chat::jinja {

class Value;
class Runtime;  // the interpreter, seen by native callables (jinja_interp.h)

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,  // list, tuple or generator (see Value::is_tuple, is_generator)
  kDict,
  kCallable,
  kObject,  // namespace, loop, cycler, joiner
};

using List = std::vector<Value>;
class Dict;
struct CallArgs;
struct Callable;
struct Object;

// Native functions throw jinja::Error (jinja_error.h) on failure.
using NativeFn = std::function<Value(Runtime&, CallArgs&)>;

// Why a value is undefined, reported when the template misuses it.
struct UndefinedInfo {
  std::string hint;        // e.g. "'dict object' has no attribute 'content'"
  std::string error_type;  // "" = UndefinedError; "SecurityError" for unsafe attributes
};

// Lists and dicts may nest at most this deep, so that comparing, printing and destroying
// values never recurses without bound.
constexpr int kMaxValueDepth = 300;

class Value {
 public:
  Value() = default;                                      // undefined
  Value(bool b) : kind_(Kind::kBool), data_(b) {}         // NOLINT
  Value(int64_t i) : kind_(Kind::kInt), data_(i) {}       // NOLINT
  Value(int i) : kind_(Kind::kInt), data_(int64_t{i}) {}  // NOLINT
  Value(double d) : kind_(Kind::kFloat), data_(d) {}      // NOLINT
  // Strings are shared: copying a Value never copies the text.
  Value(std::string s)
      : kind_(Kind::kString), data_(std::make_shared<const std::string>(std::move(s))) {}  // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                                          // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}                                     // NOLINT

  // An undefined value; `hint` is the UndefinedError message used if it is misused.
  static Value undefined(std::string hint = "value is undefined", std::string error_type = "");
  static Value none();
  static Value list(List items);
  static Value tuple(List items);
  // The result of select/map/...: iterates like a list, but is always true, has no len()
  // and is not subscriptable, as a Python generator (it is not single-use, though).
  static Value generator(List items);
  // A markupsafe.Markup string (from `|safe`, `|escape`): `+` with a plain string escapes
  // the plain side, as Python does.
  static Value markup(std::string s);
  static Value dict(Dict d);
  static Value callable(std::string name, NativeFn fn, bool is_macro = false);
  static Value object(std::shared_ptr<Object> obj);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && seq_ == kSeqTuple; }
  bool is_generator() const { return kind_ == Kind::kList && seq_ == kSeqGenerator; }
  bool is_markup() const { return kind_ == Kind::kString && seq_ == kSeqMarkup; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_callable() const { return kind_ == Kind::kCallable; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  // Numeric value of a bool, int or float.
  double to_double() const;
  // Integer value of a bool or int.
  int64_t to_int() const;
  const std::string& as_string() const { return *std::get<std::shared_ptr<const std::string>>(data_); }
  const List& as_list() const { return *std::get<std::shared_ptr<const List>>(data_); }
  const Dict& as_dict() const { return *std::get<std::shared_ptr<const Dict>>(data_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<const Callable>>(data_); }
  Object& as_object() const { return *std::get<std::shared_ptr<Object>>(data_); }
  const std::shared_ptr<Object>& object_ptr() const { return std::get<std::shared_ptr<Object>>(data_); }
  // Message and exception class for misuse of an undefined value.
  std::string undefined_hint() const;
  std::string undefined_error_type() const;
  // Nesting depth of lists/dicts (0 for scalars).
  int depth() const { return depth_; }

  // Identity of shared payloads (Python `is`); false for plain scalars of different kinds.
  bool same_as(const Value& other) const;

 private:
  static constexpr uint8_t kSeqList = 0, kSeqTuple = 1, kSeqGenerator = 2, kSeqMarkup = 3;
  Kind kind_ = Kind::kUndefined;
  uint8_t seq_ = kSeqList;
  uint16_t depth_ = 0;
  std::variant<std::monostate, bool, int64_t, double, std::shared_ptr<const std::string>,
               std::shared_ptr<const List>, std::shared_ptr<const Dict>, std::shared_ptr<const Callable>,
               std::shared_ptr<Object>, std::shared_ptr<const UndefinedInfo>>
      data_;
};

// An insertion-ordered dict (Python 3.7+ semantics). Keys are usually strings.
class Dict {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);  // replaces an existing key in place
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }

 private:
  std::vector<std::pair<Value, Value>> items_;
};

// Arguments of a call: positional values and keyword pairs in call order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
  std::string name;
  NativeFn fn;
  bool is_macro = false;
};

// An object with attributes: namespace() (mutable), loop, cycler, joiner.
struct Object {
  std::string type_name;  // "Namespace", "LoopContext", "Cycler", "Joiner"
  Dict attrs;
  bool mutable_attrs = false;
  NativeFn call;  // set when the object itself is callable (recursive loop, joiner)
  // Attributes computed on access (cycler.current); returns undefined when unknown.
  std::function<Value(std::string_view)> dynamic_attr;
};

// Python truthiness (undefined is false).
bool truthy(const Value& v);
// Python type name used in error messages: 'NoneType', 'int', 'str', 'list', 'dict', ...
std::string type_name(const Value& v);
// Jinja's object_type_repr: "None", "dict object", "str object", ...
std::string object_type_repr(const Value& v);
// Python str(): strings as-is, None -> "None", lists/dicts as repr; undefined -> "".
std::string to_str(const Value& v);
// Python repr(): strings quoted Python-style.
std::string repr(const Value& v);
// Python repr of a string.
std::string repr_string(std::string_view s);
// Python repr of a float ("1.0", "1e+16", "nan").
std::string float_repr(double d);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <; throws TypeError for unorderable types. Returns -1, 0, 1.
int compare(const Value& a, const Value& b);

}  // namespace sov::chat::jinja
