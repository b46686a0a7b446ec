// Jinja filters on strings and scalars (`x | name(args)`), plus the filter registry. The
// sequence filters (map, select, sort, join, ...) live in jinja_filters_seq.cpp.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_filters_seq.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_json.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

// Jinja's soft_str: strings as-is, everything else through str().
std::string soft_str(const Value& v) {
  return to_str(v);
}

// Markup in, Markup out: markupsafe's str methods keep the type.
Value keep_markup(const Value& input, std::string s) {
  return input.is_markup() ? Value::markup(std::move(s)) : Value(std::move(s));
}

Value f_upper(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "upper", {});
  return keep_markup(v, text::upper(soft_str(v)));
}

Value f_lower(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "lower", {});
  return keep_markup(v, text::lower(soft_str(v)));
}

Value f_capitalize(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "capitalize", {});
  return keep_markup(v, text::capitalize(soft_str(v)));
}

// Jinja's title: words start after runs of '-', whitespace, '(', '{', '[', '<'.
Value f_title(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "title", {});
  std::u32string s = text::decode(soft_str(v));
  auto sep = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || text::is_space(c);
  };
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    bool is_sep = sep(s[i]);
    while (j < s.size() && sep(s[j]) == is_sep) ++j;
    for (size_t k = i; k < j; ++k) {
      char32_t c = s[k];
      if (k == i) {
        out += text::upper(text::encode(std::u32string(1, c)));
      } else {
        text::append_utf8(&out, text::to_lower(c));
      }
    }
    i = j;
  }
  return Value(std::move(out));
}

Value f_trim(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "trim", {"chars"});
  return keep_markup(v, text::strip(soft_str(v), arg_optional_string(b.get(0), "trim chars"), true, true));
}

Value f_string(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "string", {});
  return v.is_string() ? v : Value(soft_str(v));
}

Value f_safe(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "safe", {});
  return Value::markup(soft_str(v));
}

Value f_escape(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "escape", {});
  if (v.is_markup()) return v;
  return Value::markup(html_escape(soft_str(v)));
}

Value f_forceescape(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "forceescape", {});
  return Value::markup(html_escape(soft_str(v)));
}

Value f_replace(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "replace", {"old", "new", "count"});
  if (!b.get(0) || !b.get(1)) throw_type_error("do_replace() missing required positional arguments");
  int64_t count = b.get(2) && !b.get(2)->is_none() ? arg_int(*b.get(2), "count") : -1;
  std::string out = text::replace(soft_str(v), soft_str(*b.get(0)), soft_str(*b.get(1)), count);
  rt.check_size(out.size());
  return Value(std::move(out));
}

Value f_default(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "default", {"default_value", "boolean"});
  bool boolean = b.get(1) && truthy(*b.get(1));
  if (v.is_undefined() || (boolean && !truthy(v))) return b.get_or(0, Value(""));
  return v;
}

Value f_length(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "length", {});
  return Value(length(v));
}

Value f_tojson(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
  DumpOptions o;
  o.ensure_ascii = b.get(0) && truthy(*b.get(0));
  if (const Value* indent = b.get(1); indent && !indent->is_none()) {
    if (indent->is_string()) {
      o.indent = indent->as_string();
    } else {
      int64_t n = arg_int(*indent, "indent");
      o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(n, 0, 1000)), ' ');
    }
    o.item_separator = ",";
  }
  if (const Value* sep = b.get(2); sep && !sep->is_none()) {
    if (!sep->is_list() || sep->as_list().size() != 2)
      throw_value_error("separators must be a (item, key) pair");
    o.item_separator = arg_string(sep->as_list()[0], "item separator");
    o.key_separator = arg_string(sep->as_list()[1], "key separator");
  }
  o.sort_keys = b.get(3) && truthy(*b.get(3));
  o.max_bytes = rt.limits().max_output_bytes;
  return Value(dumps(v, o));
}

Value f_abs(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "abs", {});
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) {
    if (v.to_int() == INT64_MIN) throw Error("OverflowError", "integer result too large");
    return Value(v.to_int() < 0 ? -v.to_int() : v.to_int());
  }
  throw_type_error("bad operand type for abs(): '" + type_name(v) + "'");
}

// Python float(str): surrounding whitespace, underscores between digits, inf/nan words.
bool parse_float(const std::string& raw, double* out) {
  std::string s = text::strip(raw, std::nullopt, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return false;
      }
      continue;
    }
    clean.push_back(s[i]);
  }
  if (clean.empty()) return false;
  std::string lower = text::lower(clean);
  std::string body = (lower[0] == '+' || lower[0] == '-') ? lower.substr(1) : lower;
  if (body == "inf" || body == "infinity" || body == "nan") {
    double d = body == "nan" ? NAN : INFINITY;
    *out = lower[0] == '-' ? -d : d;
    return true;
  }
  if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end == clean.c_str() + clean.size();
}

// Python int(str, base).
bool parse_int(const std::string& raw, int64_t base, int64_t* out) {
  std::string s = text::strip(raw, std::nullopt, true, true);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0') {
    char p = static_cast<char>(s[i + 1] | 0x20);
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) i += 2;
  }
  if (i >= s.size()) return false;
  std::string digits;
  for (; i < s.size(); ++i) {
    if (s[i] == '_' && !digits.empty() && i + 1 < s.size() && s[i + 1] != '_') continue;
    digits.push_back(s[i]);
  }
  if (digits.empty() || base < 2 || base > 36) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
  if (end != digits.c_str() + digits.size() || errno == ERANGE ||
      !isalnum(static_cast<unsigned char>(digits[0]))) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

Value f_int(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "int", {"default", "base"});
  Value fallback = b.get_or(0, Value(int64_t{0}));
  int64_t base = b.get(1) ? arg_int(*b.get(1), "base") : 10;
  if (v.is_undefined()) fail_undefined(v);  // Undefined.__int__ raises
  if (v.is_int() || v.is_bool()) return Value(v.to_int());
  if (v.is_float()) {
    double d = v.as_float();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t i;
    if (parse_int(v.as_string(), base, &i)) return Value(i);
    double d;
    if (parse_float(v.as_string(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value(static_cast<int64_t>(d));
    }
  }
  return fallback;
}

Value f_float(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "float", {"default"});
  if (v.is_undefined()) fail_undefined(v);  // Undefined.__float__ raises
  if (v.is_number()) return Value(v.to_double());
  double d;
  if (v.is_string() && parse_float(v.as_string(), &d)) return Value(d);
  return b.get_or(0, Value(0.0));
}

double python_round(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits > 300) return x;
  if (ndigits >= 0) {
    // printf rounds the exact binary value half-to-even, as Python's round() does.
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / p) * p;
}

Value f_round(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "round", {"precision", "method"});
  int64_t precision = b.get(0) ? arg_int(*b.get(0), "precision") : 0;
  std::string method = b.get(1) ? arg_string(*b.get(1), "method") : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    throw Error("FilterArgumentError", "method must be common, ceil or floor");
  }
  if (!v.is_number()) throw_type_error("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_float()) return Value(python_round(v.as_float(), precision));
    if (precision >= 0) return Value(v.to_int());
    return Value(static_cast<int64_t>(python_round(static_cast<double>(v.to_int()), precision)));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.to_double() * scale;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value f_indent(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "indent", {"width", "first", "blank"});
  std::string indention;
  if (b.get(0) && b.get(0)->is_string()) {
    indention = b.get(0)->as_string();
  } else {
    int64_t width = b.get(0) ? arg_int(*b.get(0), "width") : 4;
    rt.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    indention = std::string(static_cast<size_t>(std::max<int64_t>(width, 0)), ' ');
  }
  bool first = b.get(1) && truthy(*b.get(1));
  bool blank = b.get(2) && truthy(*b.get(2));
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string())
    throw_type_error("unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  std::vector<std::string> lines = text::splitlines(v.as_string() + "\n", false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i)
      rv += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
  }
  if (first) rv = indention + rv;
  rt.check_size(rv.size());
  return keep_markup(v, std::move(rv));
}

Value f_center(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "center", {"width"});
  CallArgs args;
  args.positional.push_back(b.get_or(0, Value(int64_t{80})));
  return call_method(rt, Value(soft_str(v)), "center", args);
}

Value f_truncate(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "truncate", {"length", "killwords", "end", "leeway"});
  int64_t len = b.get(0) ? arg_int(*b.get(0), "length") : 255;
  bool killwords = b.get(1) && truthy(*b.get(1));
  std::string end = b.get(2) ? arg_string(*b.get(2), "end") : "...";
  int64_t leeway = b.get(3) && !b.get(3)->is_none() ? arg_int(*b.get(3), "leeway") : 5;
  int64_t end_len = static_cast<int64_t>(text::length(end));
  if (len < end_len) throw Error("AssertionError", "expected length >= " + std::to_string(end_len));
  if (leeway < 0) throw Error("AssertionError", "expected leeway >= 0");
  if (!v.is_string()) {
    // Python len() of the value decides; containers short enough come back unchanged.
    int64_t n = length(v);
    if (n <= len + leeway) return v;
    throw_type_error("truncate needs a string, not " + type_name(v));
  }
  std::u32string s = text::decode(soft_str(v));
  if (static_cast<int64_t>(s.size()) <= len + leeway) return Value(text::encode(s));
  std::string head = text::encode(s.substr(0, static_cast<size_t>(len - end_len)));
  if (killwords) return Value(head + end);
  size_t space = head.rfind(' ');
  return Value((space == std::string::npos ? head : head.substr(0, space)) + end);
}

Value f_wordcount(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "wordcount", {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : text::decode(soft_str(v))) {
    bool w = c == '_' || text::is_alpha(c) || text::is_digit(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value(n);
}

Value f_wordwrap(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "wordwrap", {"width", "break_long_words", "wrapstring", "break_on_hyphens"});
  int64_t width = b.get(0) ? arg_int(*b.get(0), "width") : 79;
  if (width <= 0) throw_value_error("invalid width " + std::to_string(width) + " (must be > 0)");
  bool break_long = !b.get(1) || truthy(*b.get(1));
  std::string wrap = b.get(2) && !b.get(2)->is_none() ? arg_string(*b.get(2), "wrapstring") : "\n";
  std::string out;
  bool first_para = true;
  for (const auto& para : text::splitlines(soft_str(v), false)) {
    if (!first_para) out += wrap;
    first_para = false;
    // Greedy wrapping on spaces (textwrap.wrap without hyphen splitting).
    std::vector<std::string> lines;
    std::u32string line;
    for (const auto& word : text::split(para, std::nullopt, -1)) {
      std::u32string w = text::decode(word);
      while (break_long && static_cast<int64_t>(w.size()) > width) {
        size_t room =
            line.empty() ? static_cast<size_t>(width) : static_cast<size_t>(width) - line.size() - 1;
        if (!line.empty() && static_cast<int64_t>(line.size()) + 1 < width) {
          line += U' ';
          line += w.substr(0, room);
          w = w.substr(room);
        } else if (line.empty()) {
          line = w.substr(0, room);
          w = w.substr(room);
        }
        lines.push_back(text::encode(line));
        line.clear();
      }
      if (w.empty()) continue;
      if (line.empty()) {
        line = w;
      } else if (static_cast<int64_t>(line.size() + 1 + w.size()) <= width) {
        line += U' ';
        line += w;
      } else {
        lines.push_back(text::encode(line));
        line = w;
      }
    }
    if (!line.empty()) lines.push_back(text::encode(line));
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? wrap : "") + lines[i];
  }
  return Value(std::move(out));
}

Value f_format(Runtime& rt, const Value& v, CallArgs& a) {
  if (!a.positional.empty() && !a.keyword.empty()) {
    throw Error("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  }
  Value args;
  if (!a.keyword.empty()) {
    Dict d;
    for (auto& [k, val] : a.keyword) d.set(Value(k), val);
    args = Value::dict(std::move(d));
  } else {
    args = Value::tuple(a.positional);
  }
  return Value(percent_format(rt, soft_str(v), args));
}

Value f_filesizeformat(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "filesizeformat", {"binary"});
  bool binary = b.get(0) && truthy(*b.get(0));
  double bytes;
  if (v.is_number()) {
    bytes = v.to_double();
  } else if (!v.is_string() || !parse_float(v.as_string(), &bytes)) {
    throw_value_error("could not convert to float: " + repr(v));
  }
  const double base = binary ? 1024 : 1000;
  static const char* kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes == 1) return Value("1 Byte");
  if (bytes < base) return Value(std::to_string(static_cast<int64_t>(bytes)) + " Bytes");
  char buf[64];
  double unit = base;
  for (int i = 0; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    if (bytes < unit || i == 7) {
      std::snprintf(buf, sizeof(buf), "%.1f %s", base * bytes / unit, binary ? kBinary[i] : kDecimal[i]);
      break;
    }
  }
  return Value(buf);
}

std::string url_quote(const std::string& s, bool for_qs) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool safe = isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (!for_qs && c == '/');
    if (safe) {
      out.push_back(static_cast<char>(c));
    } else if (for_qs && c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Value f_urlencode(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "urlencode", {});
  if (v.is_string()) return Value(url_quote(v.as_string(), false));
  List pairs;
  if (v.is_dict()) {
    for (const auto& [k, val] : v.as_dict().items()) pairs.push_back(Value::tuple({k, val}));
  } else {
    pairs = iterate(rt, v);
  }
  std::string out;
  for (const auto& p : pairs) {
    List kv = iterate(rt, p);
    if (kv.size() != 2) throw_value_error("urlencode expects (key, value) pairs");
    if (!out.empty()) out += "&";
    out += url_quote(to_str(kv[0]), true) + "=" + url_quote(to_str(kv[1]), true);
  }
  return Value(std::move(out));
}

Value f_striptags(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "striptags", {});
  std::string s = soft_str(v), stripped;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      i = e == std::string::npos ? s.size() : e + 3;
    } else if (s[i] == '<' && s.find('>', i) != std::string::npos) {
      i = s.find('>', i) + 1;
    } else {
      stripped.push_back(s[i++]);
    }
  }
  static const std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""}, {"&#39;", "'"}};
  for (const auto& [from, to] : kEntities) stripped = text::replace(stripped, from, to, -1);
  std::string out;
  for (const auto& w : text::split(stripped, std::nullopt, -1)) out += (out.empty() ? "" : " ") + w;
  return Value(std::move(out));
}

Value f_pprint(Runtime&, const Value& v, CallArgs& a) {
  ArgBinder b(a, "pprint", {});
  return Value(repr(v));
}

Value f_attr(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "attr", {"name"});
  if (!b.get(0)) throw_type_error("do_attr() missing 1 required positional argument: 'name'");
  std::string name = arg_string(*b.get(0), "attribute name");
  // Attributes only: dict keys are not attributes.
  if (v.is_dict() && find_method(v, name) == MethodKind::kNone) {
    return Value::undefined(repr_string(object_type_repr(v)) + " has no attribute " + repr_string(name));
  }
  return rt.getattr(v, name);
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", f_batch},
    {"capitalize", f_capitalize},
    {"center", f_center},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"filesizeformat", f_filesizeformat},
    {"first", f_first},
    {"float", f_float},
    {"forceescape", f_forceescape},
    {"format", f_format},
    {"groupby", f_groupby},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"map", f_map},
    {"max", f_max},
    {"min", f_min},
    {"pprint", f_pprint},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"slice", f_slice},
    {"sort", f_sort},
    {"string", f_string},
    {"striptags", f_striptags},
    {"sum", f_sum},
    {"title", f_title},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"unique", f_unique},
    {"upper", f_upper},
    {"urlencode", f_urlencode},
    {"wordcount", f_wordcount},
    {"wordwrap", f_wordwrap},
};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const auto& f : kFilters) {
    if (f.name == name) return f.fn;
  }
  return nullptr;
}

}  // namespace sov::chat::jinja
