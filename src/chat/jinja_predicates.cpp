// Jinja tests: `x is name(args)` (Jinja2 3.1's builtin set).
#include <string_view>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

const Value& one_arg(CallArgs& args, std::string_view name) {
  ArgBinder b(args, name, {"other"});
  if (!b.get(0)) throw_type_error(std::string(name) + "() missing 1 required positional argument");
  return *b.get(0);
}

void no_args(CallArgs& args, std::string_view name) {
  ArgBinder b(args, name, {});
}

bool test_defined(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "defined"), !v.is_undefined();
}
bool test_undefined(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "undefined"), v.is_undefined();
}
bool test_none(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "none"), v.is_none();
}
bool test_boolean(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "boolean"), v.is_bool();
}
bool test_true(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "true"), v.is_bool() && v.as_bool();
}
bool test_false(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "false"), v.is_bool() && !v.as_bool();
}
bool test_integer(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "integer"), v.is_int();
}
bool test_float(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "float"), v.is_float();
}
bool test_number(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "number"), v.is_number();
}
bool test_string(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "string"), v.is_string();
}
bool test_mapping(Runtime&, const Value& v, CallArgs& a) {
  return no_args(a, "mapping"), v.is_dict();
}
bool test_escaped(Runtime&, const Value&, CallArgs& a) {
  return no_args(a, "escaped"), false;
}

bool test_iterable(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "iterable");
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}

bool test_sequence(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "sequence");
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}

bool test_callable(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "callable");
  // Jinja's Undefined defines __call__, so Python's callable() is true for it.
  return v.is_callable() || v.is_undefined() || (v.is_object() && v.as_object().call);
}

bool parity(Runtime& rt, const Value& v, int64_t want) {
  Value r = binary_op(rt, "%", v, Value(int64_t{2}));
  return equals(r, Value(want));
}
bool test_odd(Runtime& rt, const Value& v, CallArgs& a) {
  return no_args(a, "odd"), parity(rt, v, 1);
}
bool test_even(Runtime& rt, const Value& v, CallArgs& a) {
  return no_args(a, "even"), parity(rt, v, 0);
}

bool test_divisibleby(Runtime& rt, const Value& v, CallArgs& a) {
  const Value& num = one_arg(a, "divisibleby");
  return equals(binary_op(rt, "%", v, num), Value(int64_t{0}));
}

bool test_lower(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "lower");
  bool cased = false;
  for (char32_t c : text::decode(to_str(v))) {
    if (text::is_upper(c)) return false;
    cased = cased || text::is_lower(c);
  }
  return cased;
}

bool test_upper(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "upper");
  bool cased = false;
  for (char32_t c : text::decode(to_str(v))) {
    if (text::is_lower(c)) return false;
    cased = cased || text::is_upper(c);
  }
  return cased;
}

bool test_sameas(Runtime&, const Value& v, CallArgs& a) {
  return v.same_as(one_arg(a, "sameas"));
}
bool test_eq(Runtime&, const Value& v, CallArgs& a) {
  return equals(v, one_arg(a, "eq"));
}
bool test_ne(Runtime&, const Value& v, CallArgs& a) {
  return !equals(v, one_arg(a, "ne"));
}
bool test_lt(Runtime&, const Value& v, CallArgs& a) {
  return compare(v, one_arg(a, "lt")) < 0;
}
bool test_le(Runtime&, const Value& v, CallArgs& a) {
  return compare(v, one_arg(a, "le")) <= 0;
}
bool test_gt(Runtime&, const Value& v, CallArgs& a) {
  return compare(v, one_arg(a, "gt")) > 0;
}
bool test_ge(Runtime&, const Value& v, CallArgs& a) {
  return compare(v, one_arg(a, "ge")) >= 0;
}
bool test_in(Runtime&, const Value& v, CallArgs& a) {
  return contains(one_arg(a, "in"), v);
}

bool test_filter(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "filter");
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}

bool test_test(Runtime&, const Value& v, CallArgs& a) {
  no_args(a, "test");
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"defined", test_defined},
    {"undefined", test_undefined},
    {"none", test_none},
    {"boolean", test_boolean},
    {"true", test_true},
    {"false", test_false},
    {"integer", test_integer},
    {"float", test_float},
    {"number", test_number},
    {"string", test_string},
    {"mapping", test_mapping},
    {"iterable", test_iterable},
    {"sequence", test_sequence},
    {"callable", test_callable},
    {"escaped", test_escaped},
    {"odd", test_odd},
    {"even", test_even},
    {"divisibleby", test_divisibleby},
    {"lower", test_lower},
    {"upper", test_upper},
    {"sameas", test_sameas},
    {"eq", test_eq},
    {"equalto", test_eq},
    {"==", test_eq},
    {"ne", test_ne},
    {"!=", test_ne},
    {"lt", test_lt},
    {"lessthan", test_lt},
    {"<", test_lt},
    {"le", test_le},
    {"<=", test_le},
    {"gt", test_gt},
    {"greaterthan", test_gt},
    {">", test_gt},
    {"ge", test_ge},
    {">=", test_ge},
    {"in", test_in},
    {"filter", test_filter},
    {"test", test_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const auto& t : kTests) {
    if (t.name == name) return t.fn;
  }
  return nullptr;
}

}  // namespace sov::chat::jinja
