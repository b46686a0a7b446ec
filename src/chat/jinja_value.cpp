#include "chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja_error.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

std::string Error::to_string() const {
  std::string out = type_;
  if (line_ > 0) {
    out += " at line " + std::to_string(line_);
    if (column_ > 0) out += ", column " + std::to_string(column_);
  }
  return out + ": " + message_;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : items_) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items_) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : items_) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

Value Value::undefined(std::string hint, std::string error_type) {
  Value v;
  v.data_ = std::make_shared<const UndefinedInfo>(UndefinedInfo{std::move(hint), std::move(error_type)});
  return v;
}

std::string Value::undefined_hint() const {
  if (const auto* info = std::get_if<std::shared_ptr<const UndefinedInfo>>(&data_)) return (*info)->hint;
  return "value is undefined";
}

std::string Value::undefined_error_type() const {
  if (const auto* info = std::get_if<std::shared_ptr<const UndefinedInfo>>(&data_))
    return (*info)->error_type;
  return "";
}

namespace {
uint16_t nested_depth(int child_depth) {
  if (child_depth + 1 > kMaxValueDepth) {
    throw Error("RecursionError",
                "value nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
  }
  return static_cast<uint16_t>(child_depth + 1);
}
}  // namespace

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::list(List items) {
  Value v;
  int d = 0;
  for (const auto& item : items) d = std::max(d, item.depth());
  v.depth_ = nested_depth(d);
  v.kind_ = Kind::kList;
  v.data_ = std::make_shared<const List>(std::move(items));
  return v;
}

Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.seq_ = kSeqTuple;
  return v;
}

Value Value::generator(List items) {
  Value v = list(std::move(items));
  v.seq_ = kSeqGenerator;
  return v;
}

Value Value::markup(std::string s) {
  Value v(std::move(s));
  v.seq_ = kSeqMarkup;
  return v;
}

Value Value::dict(Dict d) {
  Value v;
  int depth = 0;
  for (const auto& [k, item] : d.items()) depth = std::max({depth, k.depth(), item.depth()});
  v.depth_ = nested_depth(depth);
  v.kind_ = Kind::kDict;
  v.data_ = std::make_shared<const Dict>(std::move(d));
  return v;
}

Value Value::callable(std::string name, NativeFn fn, bool is_macro) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.data_ = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn), is_macro});
  return v;
}

Value Value::object(std::shared_ptr<Object> obj) {
  Value v;
  v.kind_ = Kind::kObject;
  v.data_ = std::move(obj);
  return v;
}

double Value::to_double() const {
  switch (kind_) {
    case Kind::kBool: return as_bool() ? 1.0 : 0.0;
    case Kind::kInt: return static_cast<double>(as_int());
    case Kind::kFloat: return as_float();
    default: return 0.0;
  }
}

int64_t Value::to_int() const {
  switch (kind_) {
    case Kind::kBool: return as_bool() ? 1 : 0;
    case Kind::kInt: return as_int();
    case Kind::kFloat: return static_cast<int64_t>(as_float());
    default: return 0;
  }
}

bool Value::same_as(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kBool: return as_bool() == other.as_bool();
    case Kind::kInt: return as_int() == other.as_int();
    case Kind::kFloat: return as_float() == other.as_float();
    case Kind::kString: return as_string() == other.as_string();  // like interned str
    case Kind::kList:
      return std::get<std::shared_ptr<const List>>(data_) ==
             std::get<std::shared_ptr<const List>>(other.data_);
    case Kind::kDict:
      return std::get<std::shared_ptr<const Dict>>(data_) ==
             std::get<std::shared_ptr<const Dict>>(other.data_);
    case Kind::kCallable:
      return std::get<std::shared_ptr<const Callable>>(data_) ==
             std::get<std::shared_ptr<const Callable>>(other.data_);
    case Kind::kObject: return object_ptr() == other.object_ptr();
  }
  return false;
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return v.as_bool();
    case Kind::kInt: return v.as_int() != 0;
    case Kind::kFloat: return v.as_float() != 0.0;
    case Kind::kString: return !v.as_string().empty();
    case Kind::kList: return v.is_generator() || !v.as_list().empty();
    case Kind::kDict: return !v.as_dict().empty();
    case Kind::kCallable:
    case Kind::kObject: return true;
  }
  return false;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return v.is_markup() ? "Markup" : "str";
    case Kind::kList: return v.is_tuple() ? "tuple" : (v.is_generator() ? "generator" : "list");
    case Kind::kDict: return "dict";
    case Kind::kCallable: return v.as_callable().is_macro ? "Macro" : "function";
    case Kind::kObject: return v.as_object().type_name;
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  return type_name(v) + " object";
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci looks like "-1.2345e-05": split sign, digits and exponent.
  bool neg = sci[0] == '-';
  size_t epos = sci.find('e');
  std::string mant = sci.substr(neg ? 1 : 0, epos - (neg ? 1 : 0));
  int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {  // Python repr uses fixed notation for 1e-4 <= |d| < 1e16
    if (exp >= 0) {
      if (digits.size() <= static_cast<size_t>(exp) + 1) {
        out += digits + std::string(exp + 1 - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
      }
    } else {
      out += "0." + std::string(-exp - 1, '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + ebuf;
}

std::string repr_string(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : text::decode(s)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (!text::is_printable(c)) {
      char buf[16];
      if (c < 0x100) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      } else if (c < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      text::append_utf8(&out, c);
    }
  }
  out.push_back(quote);
  return out;
}

namespace {

void append_repr(std::string* out, const Value& v, int depth);

void append_str(std::string* out, const Value& v, int depth) {
  switch (v.kind()) {
    case Kind::kUndefined: return;
    case Kind::kString: out->append(v.as_string()); return;
    default: append_repr(out, v, depth);
  }
}

void append_repr(std::string* out, const Value& v, int depth) {
  if (depth > 200) throw Error("RecursionError", "maximum recursion depth exceeded while getting the repr");
  switch (v.kind()) {
    case Kind::kUndefined: out->append("Undefined"); return;
    case Kind::kNone: out->append("None"); return;
    case Kind::kBool: out->append(v.as_bool() ? "True" : "False"); return;
    case Kind::kInt: out->append(std::to_string(v.as_int())); return;
    case Kind::kFloat: out->append(float_repr(v.as_float())); return;
    case Kind::kString:
      if (v.is_markup()) {
        out->append("Markup(" + repr_string(v.as_string()) + ")");
      } else {
        out->append(repr_string(v.as_string()));
      }
      return;
    case Kind::kList: {
      if (v.is_generator()) {
        out->append("<generator object>");
        return;
      }
      const List& items = v.as_list();
      out->push_back(v.is_tuple() ? '(' : '[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out->append(", ");
        append_repr(out, items[i], depth + 1);
      }
      if (v.is_tuple() && items.size() == 1) out->push_back(',');
      out->push_back(v.is_tuple() ? ')' : ']');
      return;
    }
    case Kind::kDict: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.as_dict().items()) {
        if (!first) out->append(", ");
        first = false;
        append_repr(out, k, depth + 1);
        out->append(": ");
        append_repr(out, val, depth + 1);
      }
      out->push_back('}');
      return;
    }
    case Kind::kCallable:
      if (v.as_callable().is_macro) {
        out->append("<Macro '" + v.as_callable().name + "'>");
      } else {
        out->append("<built-in function " + v.as_callable().name + ">");
      }
      return;
    case Kind::kObject: {
      const Object& o = v.as_object();
      if (o.type_name == "Namespace") {
        out->append("<Namespace ");
        append_repr(out, Value::dict(o.attrs), depth + 1);
        out->push_back('>');
      } else {
        out->append("<" + o.type_name + " object>");
      }
      return;
    }
  }
}

}  // namespace

std::string to_str(const Value& v) {
  if (v.is_string()) return v.as_string();
  std::string out;
  append_str(&out, v, 0);
  return out;
}

std::string repr(const Value& v) {
  std::string out;
  append_repr(&out, v, 0);
  return out;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
    return a.to_int() == b.to_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.as_string() == b.as_string();
    case Kind::kList: {
      if (a.is_generator() || b.is_generator()) return a.same_as(b);
      if (a.is_tuple() != b.is_tuple()) return false;
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* other = y.find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    default: return a.same_as(b);
  }
}

int compare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.to_double(), y = b.to_double();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.to_int(), y = b.to_int();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // UTF-8 byte order equals code point order.
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_generator() && !b.is_generator()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  throw_type_error("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) +
                   "'");
}

}  // namespace sov::chat::jinja
