// Python methods callable on template values: str, dict and list/tuple. Methods that mutate
// (list.append, dict.update, ...) exist but are refused, as ImmutableSandboxedEnvironment does.
#include <algorithm>
#include <array>
#include <string_view>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

constexpr std::string_view kStrMethods[] = {
    "capitalize",   "casefold",   "center",     "count",       "endswith",   "find",         "format",
    "format_map",   "index",      "isalnum",    "isalpha",     "isascii",    "isdecimal",    "isdigit",
    "isidentifier", "islower",    "isnumeric",  "isprintable", "isspace",    "istitle",      "isupper",
    "join",         "ljust",      "lower",      "lstrip",      "partition",  "removeprefix", "removesuffix",
    "replace",      "rfind",      "rindex",     "rjust",       "rpartition", "rsplit",       "rstrip",
    "split",        "splitlines", "startswith", "strip",       "swapcase",   "title",        "upper",
    "zfill",
};
constexpr std::string_view kDictMethods[] = {"copy", "get", "items", "keys", "values"};
constexpr std::string_view kDictUnsafe[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kListMethods[] = {"copy", "count", "index"};
constexpr std::string_view kListUnsafe[] = {"append", "clear",  "extend",  "insert",
                                            "pop",    "remove", "reverse", "sort"};

template <size_t N>
bool in(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

// Python's optional start/end arguments of find/count/startswith: a code point window.
std::string window(const std::string& s, const Value* start, const Value* end) {
  if ((!start || start->is_none()) && (!end || end->is_none())) return s;
  return slice(Value(s), start ? *start : Value::none(), end ? *end : Value::none(), Value::none())
      .as_string();
}

int64_t cp_index(const std::string& s, size_t byte_pos) {
  return static_cast<int64_t>(text::length(std::string_view(s).substr(0, byte_pos)));
}

int64_t window_offset(const std::string& s, const Value* start) {
  if (!start || start->is_none()) return 0;
  int64_t n = static_cast<int64_t>(text::length(s));
  int64_t i = arg_int(*start, "start");
  if (i < 0) i = std::max<int64_t>(0, i + n);
  return std::min(i, n);
}

Value affix_test(const std::string& s, CallArgs& args, std::string_view name, bool prefix) {
  ArgBinder b(args, name, {"prefix", "start", "end"});
  if (!b.get(0)) throw_type_error(std::string(name) + "() takes at least 1 argument (0 given)");
  std::string w = window(s, b.get(1), b.get(2));
  auto check = [&](const Value& v) {
    const std::string& a = arg_string(v, std::string(name) + " first arg");
    if (a.size() > w.size()) return false;
    return prefix ? w.compare(0, a.size(), a) == 0 : w.compare(w.size() - a.size(), a.size(), a) == 0;
  };
  if (b.get(0)->is_tuple()) {
    for (const auto& v : b.get(0)->as_list()) {
      if (check(v)) return Value(true);
    }
    return Value(false);
  }
  return Value(check(*b.get(0)));
}

Value find_impl(const std::string& s, CallArgs& args, std::string_view name, bool reverse, bool raise) {
  ArgBinder b(args, name, {"sub", "start", "end"});
  if (!b.get(0)) throw_type_error(std::string(name) + "() takes at least 1 argument (0 given)");
  std::string sub = arg_string(*b.get(0), "must be str");
  std::string w = window(s, b.get(1), b.get(2));
  size_t pos = reverse ? w.rfind(sub) : w.find(sub);
  if (pos == std::string::npos) {
    if (raise) throw_value_error("substring not found");
    return Value(int64_t{-1});
  }
  return Value(window_offset(s, b.get(1)) + cp_index(w, pos));
}

bool all_chars(const std::string& s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  for (char32_t c : text::decode(s)) {
    if (!pred(c)) return false;
  }
  return true;
}

Value justify(Runtime& rt, const std::string& s, CallArgs& args, std::string_view name, char how) {
  ArgBinder b(args, name, {"width", "fillchar"});
  if (!b.get(0)) throw_type_error(std::string(name) + "() takes at least 1 argument (0 given)");
  int64_t width = arg_int(*b.get(0), name);
  std::string fill = b.get(1) ? arg_string(*b.get(1), "fillchar") : " ";
  if (text::length(fill) != 1) throw_type_error("The fill character must be exactly one character long");
  int64_t len = static_cast<int64_t>(text::length(s));
  if (width <= len) return Value(s);
  rt.check_size(static_cast<size_t>(width) * fill.size());
  int64_t total = width - len;
  // Python's center puts the extra space on the right unless both the padding and width are odd.
  int64_t left = how == '<' ? 0 : how == '>' ? total : total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = left; i < total; ++i) out += fill;
  return Value(std::move(out));
}

Value split_result(std::vector<std::string> parts) {
  List out;
  for (auto& p : parts) out.emplace_back(std::move(p));
  return Value::list(std::move(out));
}

Value str_method(Runtime& rt, const std::string& s, std::string_view name, CallArgs& args) {
  auto no_args = [&]() { ArgBinder b(args, name, {}); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    ArgBinder b(args, name, {"chars"});
    auto chars = arg_optional_string(b.get(0), std::string(name) + " arg");
    return Value(text::strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    ArgBinder b(args, name, {"sep", "maxsplit"});
    auto sep = arg_optional_string(b.get(0), "must be str or None");
    int64_t maxsplit = b.get(1) ? arg_int(*b.get(1), "maxsplit") : -1;
    return split_result(name == "split" ? text::split(s, sep, maxsplit) : text::rsplit(s, sep, maxsplit));
  }
  if (name == "splitlines") {
    ArgBinder b(args, name, {"keepends"});
    return split_result(text::splitlines(s, b.get(0) && truthy(*b.get(0))));
  }
  if (name == "startswith" || name == "endswith") return affix_test(s, args, name, name == "startswith");
  if (name == "find" || name == "index") return find_impl(s, args, name, false, name == "index");
  if (name == "rfind" || name == "rindex") return find_impl(s, args, name, true, name == "rindex");
  if (name == "count") {
    ArgBinder b(args, name, {"sub", "start", "end"});
    if (!b.get(0)) throw_type_error("count() takes at least 1 argument (0 given)");
    std::string sub = arg_string(*b.get(0), "must be str");
    std::string w = window(s, b.get(1), b.get(2));
    if (sub.empty()) return Value(static_cast<int64_t>(text::length(w) + 1));
    int64_t n = 0;
    for (size_t pos = w.find(sub); pos != std::string::npos; pos = w.find(sub, pos + sub.size())) ++n;
    return Value(n);
  }
  if (name == "replace") {
    ArgBinder b(args, name, {"old", "new", "count"});
    if (!b.get(0) || !b.get(1)) throw_type_error("replace() takes at least 2 arguments");
    int64_t count = b.get(2) ? arg_int(*b.get(2), "count") : -1;
    std::string out = text::replace(s, arg_string(*b.get(0), "replace() argument 1"),
                                    arg_string(*b.get(1), "replace() argument 2"), count);
    rt.check_size(out.size());
    return Value(std::move(out));
  }
  if (name == "join") {
    ArgBinder b(args, name, {"iterable"});
    if (!b.get(0)) throw_type_error("join() takes exactly one argument (0 given)");
    std::string out;
    bool first = true;
    for (const auto& v : iterate(rt, *b.get(0))) {
      if (!v.is_string())
        throw_type_error("sequence item: expected str instance, " + type_name(v) + " found");
      if (!first) out += s;
      first = false;
      out += v.as_string();
      rt.check_size(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "format") return Value(str_format(rt, s, args));
  if (name == "format_map") {
    ArgBinder b(args, name, {"mapping"});
    if (!b.get(0) || !b.get(0)->is_dict()) throw_type_error("format_map() argument must be a mapping");
    CallArgs kw;
    for (const auto& [k, v] : b.get(0)->as_dict().items()) kw.keyword.emplace_back(to_str(k), v);
    return Value(str_format(rt, s, kw));
  }
  if (name == "center") return justify(rt, s, args, name, '^');
  if (name == "ljust") return justify(rt, s, args, name, '<');
  if (name == "rjust") return justify(rt, s, args, name, '>');
  if (name == "zfill") {
    ArgBinder b(args, name, {"width"});
    if (!b.get(0)) throw_type_error("zfill() takes exactly one argument (0 given)");
    int64_t width = arg_int(*b.get(0), "zfill");
    int64_t len = static_cast<int64_t>(text::length(s));
    if (width <= len) return Value(s);
    rt.check_size(static_cast<size_t>(width));
    size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    return Value(s.substr(0, sign) + std::string(static_cast<size_t>(width - len), '0') + s.substr(sign));
  }
  if (name == "partition" || name == "rpartition") {
    ArgBinder b(args, name, {"sep"});
    if (!b.get(0)) throw_type_error(std::string(name) + "() takes exactly one argument (0 given)");
    std::string sep = arg_string(*b.get(0), "must be str");
    if (sep.empty()) throw_value_error("empty separator");
    size_t pos = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (pos == std::string::npos) {
      return name == "partition" ? Value::tuple({Value(s), Value(""), Value("")})
                                 : Value::tuple({Value(""), Value(""), Value(s)});
    }
    return Value::tuple({Value(s.substr(0, pos)), Value(sep), Value(s.substr(pos + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    ArgBinder b(args, name, {"affix"});
    if (!b.get(0)) throw_type_error(std::string(name) + "() takes exactly one argument (0 given)");
    std::string a = arg_string(*b.get(0), "must be str");
    if (name == "removeprefix" && s.compare(0, a.size(), a) == 0) return Value(s.substr(a.size()));
    if (name == "removesuffix" && !a.empty() && s.size() >= a.size() &&
        s.compare(s.size() - a.size(), a.size(), a) == 0) {
      return Value(s.substr(0, s.size() - a.size()));
    }
    return Value(s);
  }
  no_args();
  if (name == "upper") return Value(text::upper(s));
  if (name == "lower" || name == "casefold") return Value(text::lower(s));
  if (name == "title") return Value(text::title(s));
  if (name == "capitalize") return Value(text::capitalize(s));
  if (name == "swapcase") return Value(text::swapcase(s));
  if (name == "isalpha") return Value(all_chars(s, text::is_alpha));
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
    return Value(all_chars(s, text::is_digit));
  if (name == "isalnum")
    return Value(all_chars(s, [](char32_t c) { return text::is_alpha(c) || text::is_digit(c); }));
  if (name == "isspace") return Value(all_chars(s, text::is_space));
  if (name == "isascii") return Value(text::is_ascii(s));
  if (name == "isprintable") return Value(s.empty() || all_chars(s, text::is_printable));
  if (name == "isidentifier") {
    bool ok = !s.empty() && !(s[0] >= '0' && s[0] <= '9') &&
              all_chars(s, [](char32_t c) { return c == '_' || text::is_alpha(c) || text::is_digit(c); });
    return Value(ok);
  }
  if (name == "islower" || name == "isupper") {
    bool want_upper = name == "isupper";
    bool cased = false;
    for (char32_t c : text::decode(s)) {
      if (want_upper ? text::is_lower(c) : text::is_upper(c)) return Value(false);
      cased = cased || text::is_cased(c);
    }
    return Value(cased);
  }
  if (name == "istitle") {
    bool prev_cased = false, any = false;
    for (char32_t c : text::decode(s)) {
      if (text::is_upper(c)) {
        if (prev_cased) return Value(false);
        prev_cased = any = true;
      } else if (text::is_lower(c)) {
        if (!prev_cased) return Value(false);
        prev_cased = any = true;
      } else {
        prev_cased = false;
      }
    }
    return Value(any);
  }
  throw Error("AttributeError", "'str' object has no attribute '" + std::string(name) + "'");
}

Value dict_method(const Value& obj, std::string_view name, CallArgs& args) {
  const Dict& d = obj.as_dict();
  if (name == "get") {
    ArgBinder b(args, name, {"key", "default"});
    if (!b.get(0)) throw_type_error("get expected at least 1 argument, got 0");
    if (const Value* v = d.find(*b.get(0))) return *v;
    return b.get_or(1, Value::none());
  }
  ArgBinder b(args, name, {});
  List out;
  if (name == "copy") return obj;
  for (const auto& [k, v] : d.items()) {
    if (name == "items") {
      out.push_back(Value::tuple({k, v}));
    } else {
      out.push_back(name == "keys" ? k : v);
    }
  }
  return Value::list(std::move(out));
}

Value list_method(const Value& obj, std::string_view name, CallArgs& args) {
  const List& items = obj.as_list();
  if (name == "copy") {
    ArgBinder b(args, name, {});
    return obj;
  }
  ArgBinder b(args, name, {"value", "start", "stop"});
  if (!b.get(0)) throw_type_error(std::string(name) + "() takes at least 1 argument (0 given)");
  if (name == "count") {
    int64_t n = 0;
    for (const auto& v : items) n += equals(v, *b.get(0));
    return Value(n);
  }
  int64_t size = static_cast<int64_t>(items.size());
  auto bound = [&](const Value* v, int64_t fallback) {
    if (!v) return fallback;
    int64_t i = arg_int(*v, "index");
    if (i < 0) i = std::max<int64_t>(0, i + size);
    return std::min(i, size);
  };
  for (int64_t i = bound(b.get(1), 0); i < bound(b.get(2), size); ++i) {
    if (equals(items[static_cast<size_t>(i)], *b.get(0))) return Value(i);
  }
  throw_value_error(repr(*b.get(0)) + " is not in list");
}

}  // namespace

MethodKind find_method(const Value& obj, std::string_view name) {
  switch (obj.kind()) {
    case Kind::kString: return in(kStrMethods, name) ? MethodKind::kSafe : MethodKind::kNone;
    case Kind::kDict:
      if (in(kDictMethods, name)) return MethodKind::kSafe;
      return in(kDictUnsafe, name) ? MethodKind::kUnsafe : MethodKind::kNone;
    case Kind::kList:
      if (in(kListMethods, name) && !(obj.is_tuple() && name == "copy")) return MethodKind::kSafe;
      return !obj.is_tuple() && in(kListUnsafe, name) ? MethodKind::kUnsafe : MethodKind::kNone;
    default: return MethodKind::kNone;
  }
}

Value call_method(Runtime& rt, const Value& obj, std::string_view name, CallArgs& args) {
  switch (obj.kind()) {
    case Kind::kString: {
      Value out = str_method(rt, obj.as_string(), name, args);
      if (out.is_string()) rt.check_size(out.as_string().size());
      // markupsafe wraps these methods so that a Markup stays Markup.
      static constexpr std::string_view kKeep[] = {"capitalize", "center",   "format",  "join",  "ljust",
                                                   "lower",      "lstrip",   "replace", "rjust", "rstrip",
                                                   "strip",      "swapcase", "title",   "upper", "zfill"};
      if (obj.is_markup() && out.is_string() && in(kKeep, name)) return Value::markup(out.as_string());
      return out;
    }
    case Kind::kDict: return dict_method(obj, name, args);
    case Kind::kList: return list_method(obj, name, args);
    default: break;
  }
  throw Error("AttributeError",
              "'" + type_name(obj) + "' object has no attribute '" + std::string(name) + "'");
}

}  // namespace sov::chat::jinja
