// Operators, iteration, membership, slicing and string formatting with Python semantics.
#include <cmath>
#include <cstdio>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

// ---------------------------------------------------------------- arguments

ArgBinder::ArgBinder(CallArgs& args, std::string_view function, std::initializer_list<std::string_view> names,
                     bool allow_extra_positional, bool allow_extra_keyword)
    : bound_(names.size(), nullptr) {
  const std::vector<std::string_view> params(names);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < params.size()) {
      bound_[i] = &args.positional[i];
    } else if (allow_extra_positional) {
      extra_positional_.push_back(args.positional[i]);
    } else {
      throw_type_error(std::string(function) + "() takes at most " + std::to_string(params.size()) +
                       " argument(s) (" + std::to_string(args.positional.size()) + " given)");
    }
  }
  for (auto& [key, value] : args.keyword) {
    size_t idx = params.size();
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i] == key) idx = i;
    }
    if (idx < params.size()) {
      if (bound_[idx])
        throw_type_error(std::string(function) + "() got multiple values for argument '" + key + "'");
      bound_[idx] = &value;
    } else if (allow_extra_keyword) {
      extra_keyword_.emplace_back(key, value);
    } else {
      throw_type_error(std::string(function) + "() got an unexpected keyword argument '" + key + "'");
    }
  }
}

int64_t arg_int(const Value& v, std::string_view what) {
  if (v.is_int() || v.is_bool()) return v.to_int();
  throw_type_error("'" + type_name(v) + "' object cannot be interpreted as an integer (" + std::string(what) +
                   ")");
}

std::string arg_string(const Value& v, std::string_view what) {
  if (v.is_string()) return v.as_string();
  throw_type_error(std::string(what) + " must be str, not " + type_name(v));
}

std::optional<std::string> arg_optional_string(const Value* v, std::string_view what) {
  if (!v || v->is_none()) return std::nullopt;
  return arg_string(*v, what);
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

[[noreturn]] void fail_undefined(const Value& v) {
  std::string type = v.undefined_error_type();
  throw Error(type.empty() ? "UndefinedError" : type, v.undefined_hint());
}

// ---------------------------------------------------------------- sequences

List iterate(Runtime& rt, const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return {};
    case Kind::kList: rt.count_steps(v.as_list().size()); return v.as_list();
    case Kind::kDict: {
      rt.count_steps(v.as_dict().size());
      List keys;
      keys.reserve(v.as_dict().size());
      for (const auto& [k, val] : v.as_dict().items()) keys.push_back(k);
      return keys;
    }
    case Kind::kString: {
      rt.count_steps(v.as_string().size());
      List chars;
      for (char32_t c : text::decode(v.as_string())) {
        std::string s;
        text::append_utf8(&s, c);
        chars.emplace_back(std::move(s));
      }
      return chars;
    }
    default: throw_type_error("'" + type_name(v) + "' object is not iterable");
  }
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return 0;
    case Kind::kString: return static_cast<int64_t>(text::length(v.as_string()));
    case Kind::kList:
      if (v.is_generator()) break;
      return static_cast<int64_t>(v.as_list().size());
    case Kind::kDict: return static_cast<int64_t>(v.as_dict().size());
    default: break;
  }
  throw_type_error("object of type '" + type_name(v) + "' has no len()");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined: return false;
    case Kind::kString:
      if (!item.is_string()) {
        throw_type_error("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kList:
      for (const auto& v : container.as_list()) {
        if (equals(v, item)) return true;
      }
      return false;
    case Kind::kDict:
      if (item.is_dict() || (item.is_list() && !item.is_tuple())) {
        throw_type_error("unhashable type: '" + type_name(item) + "'");
      }
      return container.as_dict().find(item) != nullptr;
    default: throw_type_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

namespace {

int64_t slice_index(const Value& v) {
  if (v.is_int() || v.is_bool()) return v.to_int();
  throw_type_error("slice indices must be integers or None or have an __index__ method");
}

}  // namespace

Value slice(const Value& v, const Value& start_v, const Value& stop_v, const Value& step_v) {
  int64_t step = step_v.is_none() ? 1 : slice_index(step_v);
  if (step == 0) throw_value_error("slice step cannot be zero");
  bool is_str = v.is_string();
  std::u32string cps;
  if (is_str) cps = text::decode(v.as_string());
  const int64_t n = is_str ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(v.as_list().size());
  const int64_t lower = step > 0 ? 0 : -1;
  const int64_t upper = step > 0 ? n : n - 1;
  auto adjust = [&](const Value& x, int64_t fallback) {
    if (x.is_none()) return fallback;
    int64_t i = slice_index(x);
    if (i < 0) {
      i += n;
      if (i < lower) i = lower;
    } else if (i > upper) {
      i = upper;
    }
    return i;
  };
  int64_t start = adjust(start_v, step > 0 ? lower : upper);
  int64_t stop = adjust(stop_v, step > 0 ? upper : lower);
  if (is_str) {
    std::u32string out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
      out.push_back(cps[static_cast<size_t>(i)]);
    return Value(text::encode(out));
  }
  const List& items = v.as_list();
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
    out.push_back(items[static_cast<size_t>(i)]);
  return v.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// ---------------------------------------------------------------- arithmetic

namespace {

[[noreturn]] void unsupported(std::string_view op, const Value& a, const Value& b) {
  throw_type_error("unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) + "' and '" +
                   type_name(b) + "'");
}

Value checked_int(bool overflow, int64_t v) {
  if (overflow) throw Error("OverflowError", "integer result too large");
  return Value(v);
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value repeat(Runtime& rt, const Value& seq, int64_t count) {
  if (count < 0) count = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(count) > rt.limits().max_output_bytes / s.size()) {
      rt.check_size(rt.limits().max_output_bytes + 1);
    }
    rt.check_size(s.size() * static_cast<size_t>(count));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value(std::move(out));
  }
  const List& items = seq.as_list();
  // Bound the element count; each element costs at least a few dozen bytes.
  if (!items.empty() && static_cast<uint64_t>(count) > rt.limits().max_output_bytes / 32 / items.size()) {
    rt.check_size(rt.limits().max_output_bytes + 1);
  }
  rt.count_steps(items.size() * static_cast<size_t>(count));
  List out;
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value add(Runtime& rt, const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value(a.to_double() + b.to_double());
    int64_t r = 0;
    bool overflow = __builtin_add_overflow(a.to_int(), b.to_int(), &r);
    return checked_int(overflow, r);
  }
  if (a.is_string() && b.is_string() && (a.is_markup() || b.is_markup())) {
    // Markup + str escapes the plain side (markupsafe's __add__ / __radd__).
    std::string out = a.is_markup() ? a.as_string() : html_escape(a.as_string());
    out += b.is_markup() ? b.as_string() : html_escape(b.as_string());
    rt.check_size(out.size());
    return Value::markup(std::move(out));
  }
  if (a.is_markup() || b.is_markup()) unsupported("+", a, b);
  if (a.is_string()) {
    if (!b.is_string()) throw_type_error("can only concatenate str (not \"" + type_name(b) + "\") to str");
    rt.check_size(a.as_string().size() + b.as_string().size());
    return Value(a.as_string() + b.as_string());
  }
  if (a.is_list() && !a.is_generator()) {
    if (!b.is_list() || a.is_tuple() != b.is_tuple() || b.is_generator()) {
      std::string t = type_name(a);
      throw_type_error("can only concatenate " + t + " (not \"" + type_name(b) + "\") to " + t);
    }
    rt.count_steps(a.as_list().size() + b.as_list().size());
    List out = a.as_list();
    out.insert(out.end(), b.as_list().begin(), b.as_list().end());
    return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  unsupported("+", a, b);
}

Value multiply(Runtime& rt, const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value(a.to_double() * b.to_double());
    int64_t r = 0;
    bool overflow = __builtin_mul_overflow(a.to_int(), b.to_int(), &r);
    return checked_int(overflow, r);
  }
  auto is_seq = [](const Value& v) { return v.is_string() || (v.is_list() && !v.is_generator()); };
  const Value* seq = is_seq(a) ? &a : (is_seq(b) ? &b : nullptr);
  const Value& other = seq == &a ? b : a;
  if (seq && (other.is_int() || other.is_bool())) return repeat(rt, *seq, other.to_int());
  if (seq && !other.is_undefined()) {
    throw_type_error("can't multiply sequence by non-int of type '" + type_name(other) + "'");
  }
  unsupported("*", a, b);
}

Value power(const Value& a, const Value& b) {
  if (a.is_float() || b.is_float() || b.to_int() < 0) {
    double x = a.to_double(), y = b.to_double();
    if (x == 0 && y < 0) throw Error("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    double r = std::pow(x, y);
    if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
      throw Error("OverflowError", "(34, 'Numerical result out of range')");
    }
    return Value(r);
  }
  int64_t base = a.to_int(), exp = b.to_int(), result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result))
        throw Error("OverflowError", "integer result too large");
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base))
      throw Error("OverflowError", "integer result too large");
  }
  return Value(result);
}

}  // namespace

Value binary_op(Runtime& rt, std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string out = to_str(a);
    std::string rhs = to_str(b);
    rt.check_size(out.size() + rhs.size());
    return Value(out + rhs);
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (op == "+") return add(rt, a, b);
  if (op == "*") return multiply(rt, a, b);
  if (op == "%" && a.is_string()) return Value(percent_format(rt, a.as_string(), b));
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  const bool floating = a.is_float() || b.is_float();
  if (op == "-") {
    if (floating) return Value(a.to_double() - b.to_double());
    int64_t r = 0;
    bool overflow = __builtin_sub_overflow(a.to_int(), b.to_int(), &r);
    return checked_int(overflow, r);
  }
  if (op == "**") return power(a, b);
  if (op == "/") {
    if (b.to_double() == 0) throw Error("ZeroDivisionError", "division by zero");
    return Value(a.to_double() / b.to_double());
  }
  if (op == "//" || op == "%") {
    if (b.to_double() == 0) {
      throw Error("ZeroDivisionError", floating ? "float modulo" : "integer division or modulo by zero");
    }
    if (floating) {
      double x = a.to_double(), y = b.to_double();
      if (op == "%") return Value(py_fmod(x, y));
      // Python's float floor division (via divmod), exact at the .5 boundaries.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
      if (div == 0) return Value(std::copysign(0.0, x / y));
      double floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
      return Value(floordiv);
    }
    int64_t x = a.to_int(), y = b.to_int();
    if (x == INT64_MIN && y == -1) {
      if (op == "%") return Value(int64_t{0});
      throw Error("OverflowError", "integer result too large");
    }
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {
      q -= 1;
      r += y;
    }
    return Value(op == "//" ? q : r);
  }
  unsupported(op, a, b);
}

Value negate(const Value& v, bool positive) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return Value(positive ? v.as_float() : -v.as_float());
  if (v.is_int() || v.is_bool()) {
    int64_t i = v.to_int();
    if (positive) return Value(i);
    if (i == INT64_MIN) throw Error("OverflowError", "integer result too large");
    return Value(-i);
  }
  throw_type_error(std::string("bad operand type for unary ") + (positive ? "+" : "-") + ": '" +
                   type_name(v) + "'");
}

}  // namespace sov::chat::jinja
