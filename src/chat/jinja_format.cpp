// Python string formatting: `fmt % args` (printf style, also the `format` filter) and
// `fmt.format(...)` with the format-spec mini-language.
#include <cmath>
#include <cstdio>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

// Appends a decimal digit to a width/precision being parsed (-1 = none yet), saturating.
int64_t add_digit(int64_t v, char digit) {
  return std::min<int64_t>(std::max<int64_t>(v, 0) * 10 + (digit - '0'), 1000000000);
}

// Pads `s` to `width` code points; align '<', '>', '^' (or '=' handled by the caller).
std::string pad(const std::string& s, int64_t width, char align, const std::string& fill) {
  int64_t len = static_cast<int64_t>(text::length(s));
  if (width <= len) return s;
  int64_t total = width - len;
  int64_t left = align == '<' ? 0 : (align == '^' ? total / 2 : total);
  int64_t right = total - left;
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < right; ++i) out += fill;
  return out;
}

// snprintf into a string of the right size; `spec` is always built from a known-good
// conversion character.
template <typename T>
std::string c_format_any(const std::string& spec, T v) {
  int n = std::snprintf(nullptr, 0, spec.c_str(), v);
  if (n < 0) throw_value_error("invalid format");
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), v);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string c_format(const std::string& spec, double d) {
  return c_format_any(spec, d);
}
std::string c_format_int(const std::string& spec, long long v) {
  return c_format_any(spec, v);
}

// ---- printf style ----

std::string percent_one(const Value& v, const std::string& flags, int64_t width, int64_t precision,
                        char conv) {
  std::string w = width >= 0 ? std::to_string(std::min<int64_t>(width, 400)) : "";
  std::string p;
  if (precision >= 0) p.append(".").append(std::to_string(std::min<int64_t>(precision, 300)));
  switch (conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = conv == 's' ? to_str(v) : repr(v);
      if (precision >= 0) s = text::encode(text::decode(s).substr(0, static_cast<size_t>(precision)));
      return pad(s, width, flags.find('-') != std::string::npos ? '<' : '>', " ");
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      long long iv;
      if (v.is_int() || v.is_bool()) {
        iv = v.to_int();
      } else if (v.is_float() && (conv == 'd' || conv == 'i' || conv == 'u')) {
        if (!std::isfinite(v.as_float())) throw Error("OverflowError", "cannot convert float to integer");
        iv = static_cast<long long>(v.as_float());
      } else {
        throw_type_error(std::string("%") + conv + " format: " +
                         (conv == 'd' || conv == 'i' || conv == 'u' ? "a real number" : "an integer") +
                         " is required, not " + type_name(v));
      }
      char c = conv == 'i' || conv == 'u' ? 'd' : conv;
      std::string f = "%" + flags + w + p + "ll" + c;
      if (iv < 0 && (c == 'x' || c == 'X' || c == 'o')) {
        // Python formats the magnitude with a minus sign.
        std::string s =
            c_format_int("%" + std::string(flags.find('#') != std::string::npos ? "#" : "") + "ll" + c, -iv);
        return pad("-" + s, width, flags.find('-') != std::string::npos ? '<' : '>', " ");
      }
      return c_format_int(f, iv);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (!v.is_number()) throw_type_error("must be real number, not " + type_name(v));
      return c_format("%" + flags + w + p + conv, v.to_double());
    }
    case 'c': {
      std::string s;
      if (v.is_int()) {
        text::append_utf8(&s, static_cast<char32_t>(v.as_int()));
      } else if (v.is_string() && text::length(v.as_string()) == 1) {
        s = v.as_string();
      } else {
        throw_type_error("%c requires int or char");
      }
      return pad(s, width, flags.find('-') != std::string::npos ? '<' : '>', " ");
    }
    default: throw_value_error(std::string("unsupported format character '") + conv + "'");
  }
}

}  // namespace

std::string percent_format(Runtime& rt, const std::string& fmt, const Value& args) {
  List values;
  const Dict* mapping = nullptr;
  if (args.is_tuple()) {
    values = args.as_list();
  } else {
    values.push_back(args);
    if (args.is_dict()) mapping = &args.as_dict();
  }
  size_t next = 0;
  std::string out;
  auto take = [&]() -> const Value& {
    if (next >= values.size()) throw_type_error("not enough arguments for format string");
    return values[next++];
  };
  bool used_mapping = false;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) throw_value_error("incomplete format");
    const Value* mapped = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) throw_value_error("incomplete format key");
      if (!mapping) throw_type_error("format requires a mapping");
      mapped = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!mapped) throw Error("KeyError", repr_string(fmt.substr(i + 1, close - i - 1)));
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos)
      flags += fmt[i++];
    int64_t width = -1, precision = -1;
    if (i < fmt.size() && fmt[i] == '*') {
      width = arg_int(take(), "* wants int");
      ++i;
    } else {
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') width = add_digit(width, fmt[i++]);
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = 0;
      if (i < fmt.size() && fmt[i] == '*') {
        precision = arg_int(take(), "* wants int");
        ++i;
      } else {
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') precision = add_digit(precision, fmt[i++]);
      }
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) throw_value_error("incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    const Value& v = mapped ? *mapped : take();
    if (width > 0) rt.check_size(out.size() + static_cast<size_t>(width));
    out += percent_one(v, flags, width, precision, conv);
    rt.check_size(out.size());
  }
  // Python only complains about unused arguments given as a tuple or a scalar.
  bool sequence_like = !args.is_tuple() && (args.is_list() || args.is_dict());
  if (!used_mapping && !sequence_like && next < values.size()) {
    throw_type_error("not all arguments converted during string formatting");
  }
  return out;
}

// ---- str.format ----

namespace {

std::string group_digits(const std::string& digits, char sep) {
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i-- > 0;) {
    if (count && count % 3 == 0) out.insert(out.begin(), sep);
    out.insert(out.begin(), digits[i]);
    ++count;
  }
  return out;
}

std::string format_value(const Value& v, const std::string& spec) {
  if (spec.empty()) return to_str(v);
  size_t i = 0;
  std::string fill = " ";
  char align = 0;
  // [[fill]align]
  {
    size_t p = 0;
    std::u32string cps = text::decode(spec);
    auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
    if (cps.size() >= 2 && is_align(cps[1])) {
      fill.clear();
      text::append_utf8(&fill, cps[0]);
      align = static_cast<char>(cps[1]);
      p = fill.size() + 1;
    } else if (!cps.empty() && is_align(cps[0])) {
      align = static_cast<char>(cps[0]);
      p = 1;
    }
    i = p;
  }
  char sign = '-';
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
  bool alt = false;
  if (i < spec.size() && spec[i] == '#') alt = true, ++i;
  if (i < spec.size() && spec[i] == '0') {
    if (!align) {
      fill = "0";
      align = '=';
    }
    ++i;
  }
  int64_t width = -1;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') width = add_digit(width, spec[i++]);
  width = std::min<int64_t>(width, 100000);
  char grouping = 0;
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) grouping = spec[i++];
  int64_t precision = -1;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    precision = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') precision = add_digit(precision, spec[i++]);
    precision = std::min<int64_t>(precision, 300);
  }
  char type = i < spec.size() ? spec[i++] : 0;
  if (i != spec.size()) throw_value_error("Invalid format specifier");

  if (v.is_string() || !v.is_number()) {
    if (!v.is_string())
      throw_type_error("unsupported format string passed to " + type_name(v) + ".__format__");
    if (type && type != 's')
      throw_value_error(std::string("Unknown format code '") + type + "' for object of type 'str'");
    std::string s = v.as_string();
    if (precision >= 0) s = text::encode(text::decode(s).substr(0, static_cast<size_t>(precision)));
    return pad(s, width, align ? (align == '=' ? '<' : align) : '<', fill);
  }
  bool negative = false;
  std::string body;
  bool as_int = (v.is_int() || v.is_bool()) &&
                (type == 0 || std::string_view("bcdoxXn").find(type) != std::string_view::npos);
  if (as_int) {
    int64_t n = v.to_int();
    negative = n < 0;
    uint64_t mag = negative ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
    switch (type) {
      case 'b': {
        do {
          body.insert(body.begin(), static_cast<char>('0' + (mag & 1)));
          mag >>= 1;
        } while (mag);
        if (alt) body = "0b" + body;
        break;
      }
      case 'o':
        body = c_format_int("%llo", static_cast<long long>(mag));
        if (alt) body = "0o" + body;
        break;
      case 'x':
        body = c_format_int("%llx", static_cast<long long>(mag));
        if (alt) body = "0x" + body;
        break;
      case 'X':
        body = c_format_int("%llX", static_cast<long long>(mag));
        if (alt) body = "0X" + body;
        break;
      case 'c':
        text::append_utf8(&body, static_cast<char32_t>(n));
        negative = false;
        break;
      default:
        body = std::to_string(mag);
        if (grouping) body = group_digits(body, grouping);
    }
  } else {
    double d = v.to_double();
    negative = std::signbit(d) && !std::isnan(d);
    double mag = std::fabs(d);
    if (type == 0 && precision < 0) {
      body = float_repr(mag);
    } else {
      if (type != 0 && std::string_view("eEfFgGn%").find(type) == std::string_view::npos) {
        throw_value_error(std::string("Unknown format code '") + type + "' for object of type '" +
                          type_name(v) + "'");
      }
      char t = type == 0 ? 'g' : (type == 'n' ? 'g' : type);
      double x = t == '%' ? mag * 100 : mag;
      std::string f = std::string("%") + (alt ? "#" : "") + "." +
                      std::to_string(precision < 0 ? 6 : precision) + (t == '%' ? 'f' : t);
      body = c_format(f, x);
      if (t == '%') body += "%";
      if (type == 0 && body.find_first_of(".eEn") == std::string::npos) body += ".0";
    }
    if (grouping) {
      size_t dot = body.find_first_not_of("0123456789");
      body = group_digits(body.substr(0, dot), grouping) + (dot == std::string::npos ? "" : body.substr(dot));
    }
  }
  std::string sign_str = negative ? "-" : (sign == '+' ? "+" : (sign == ' ' ? " " : ""));
  if (align == '=') {
    int64_t len = static_cast<int64_t>(sign_str.size() + text::length(body));
    std::string padding;
    for (int64_t k = len; k < width; ++k) padding += fill;
    return sign_str + padding + body;
  }
  return pad(sign_str + body, width, align ? align : '>', fill);
}

}  // namespace

std::string str_format(Runtime& rt, const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      throw_value_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    // Find the matching '}' (the spec may nest one level of {}).
    size_t j = i + 1;
    int nest = 1;
    for (; j < fmt.size(); ++j) {
      if (fmt[j] == '{') ++nest;
      if (fmt[j] == '}' && --nest == 0) break;
    }
    if (j >= fmt.size()) throw_value_error("expected '}' before end of string");
    std::string field = fmt.substr(i + 1, j - i - 1);
    i = j;
    std::string spec;
    char conversion = 0;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    size_t bang = field.find('!');
    if (bang != std::string::npos) {
      if (bang + 2 != field.size()) throw_value_error("expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    if (spec.find('{') != std::string::npos) spec = str_format(rt, spec, args);
    // field: name ('.' attr | '[' key ']')*
    size_t k = 0;
    while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
    std::string head = field.substr(0, k);
    Value v;
    if (head.empty()) {
      if (auto_index >= args.positional.size()) {
        throw Error("IndexError", "Replacement index " + std::to_string(auto_index) +
                                      " out of range for positional args tuple");
      }
      v = args.positional[auto_index++];
    } else if (head.find_first_not_of("0123456789") == std::string::npos) {
      size_t idx = std::stoul(head.substr(0, 9));
      if (idx >= args.positional.size()) {
        throw Error("IndexError", "Replacement index " + head + " out of range for positional args tuple");
      }
      v = args.positional[idx];
    } else {
      bool found = false;
      for (auto& [key, value] : args.keyword) {
        if (key == head) v = value, found = true;
      }
      if (!found) throw Error("KeyError", repr_string(head));
    }
    while (k < field.size()) {
      if (field[k] == '.') {
        size_t e = k + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        v = rt.getattr(v, field.substr(k + 1, e - k - 1));
        k = e;
      } else {
        size_t e = field.find(']', k);
        if (e == std::string::npos) throw_value_error("Missing ']' in format string");
        std::string key = field.substr(k + 1, e - k - 1);
        bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
        v = rt.getitem(v, numeric ? Value(static_cast<int64_t>(std::stoll(key.substr(0, 18)))) : Value(key));
        k = e + 1;
      }
    }
    if (conversion == 'r' || conversion == 'a') {
      v = Value(repr(v));
    } else if (conversion == 's') {
      v = Value(to_str(v));
    } else if (conversion) {
      throw_value_error(std::string("Unknown conversion specifier ") + conversion);
    }
    if (v.is_undefined() && spec.empty()) {
      out += to_str(v);
    } else {
      out += format_value(v, spec);
    }
    rt.check_size(out.size());
  }
  return out;
}

}  // namespace sov::chat::jinja
