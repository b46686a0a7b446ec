#include "router/toml.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "base/utf8.h"

namespace sov::router::toml {

Value Value::table(int line) {
  Value v;
  v.type_ = Type::kTable;
  v.line_ = line;
  return v;
}
Value Value::array(int line) {
  Value v;
  v.type_ = Type::kArray;
  v.line_ = line;
  return v;
}
Value Value::string(std::string s, int line) {
  Value v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  v.line_ = line;
  return v;
}
Value Value::integer(int64_t i, int line) {
  Value v;
  v.type_ = Type::kInteger;
  v.integer_ = i;
  v.line_ = line;
  return v;
}
Value Value::floating(double f, int line) {
  Value v;
  v.type_ = Type::kFloat;
  v.float_ = f;
  v.line_ = line;
  return v;
}
Value Value::boolean(bool b, int line) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  v.line_ = line;
  return v;
}

const Value* Value::find(std::string_view key) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

Value* Value::find_mut(std::string_view key) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return &items_[i];
  }
  return nullptr;
}

Value* Value::add(std::string key, Value v) {
  keys_.push_back(std::move(key));
  items_.push_back(std::move(v));
  return &items_.back();
}

Value* Value::item(size_t i) {
  return &items_[i];
}

Value* Value::last_item() {
  return &items_.back();
}

Value* Value::push(Value v) {
  items_.push_back(std::move(v));
  return &items_.back();
}

const char* Value::type_name(Type t) {
  switch (t) {
    case Type::kTable: return "table";
    case Type::kArray: return "array";
    case Type::kString: return "string";
    case Type::kInteger: return "integer";
    case Type::kFloat: return "float";
    case Type::kBool: return "boolean";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 32;
// Parts of a dotted key or header: a header path, a dotted key under it and nested values
// together stay within 64 levels (a fuzzer found 200-part keys accepted).
constexpr size_t kMaxKeyParts = 15;

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Value> run() {
    if (!utf8::is_valid(s_)) return Status::invalid_argument("the file is not valid UTF-8");
    root_ = Value::table(1);
    root_.set_origin(Value::Origin::kHeader);
    current_ = &root_;
    while (true) {
      skip_blank_lines();
      if (at_end()) break;
      if (peek() == '[') {
        SOV_RETURN_IF_ERROR(header());
      } else {
        SOV_RETURN_IF_ERROR(key_value(current_));
      }
      SOV_RETURN_IF_ERROR(end_of_line());
    }
    return std::move(root_);
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  void advance() {
    if (s_[pos_] == '\n') ++line_;
    ++pos_;
  }

  Status error(const std::string& message) const {
    return Status::invalid_argument(fmt::format("line {}: {}", line_, message));
  }

  std::string describe_here() const {
    if (at_end()) return "end of file";
    const char c = peek();
    if (c == '\n' || c == '\r') return "end of line";
    if (static_cast<unsigned char>(c) < 0x20) return fmt::format("control character 0x{:02x}", c);
    return fmt::format("'{}'",
                       std::string(s_.substr(pos_, utf8::sequence_length(c) ? utf8::sequence_length(c) : 1)));
  }

  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) advance();
  }

  // Skips a comment up to (not including) the newline. Control characters other than tab
  // are not allowed in comments.
  Status skip_comment() {
    if (peek() != '#') return Status::ok();
    while (!at_end() && peek() != '\n') {
      const unsigned char c = static_cast<unsigned char>(peek());
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) return error("control character in a comment");
      if (c == '\r' && peek(1) != '\n') return error("bare carriage return");
      advance();
    }
    return Status::ok();
  }

  // A newline ("\n" or "\r\n"); returns false when there is none here.
  bool newline() {
    if (peek() == '\n') {
      advance();
      return true;
    }
    if (peek() == '\r' && peek(1) == '\n') {
      advance();
      advance();
      return true;
    }
    return false;
  }

  void skip_blank_lines() {
    while (!at_end()) {
      skip_spaces();
      if (peek() == '#') {
        if (!skip_comment()) return;  // reported by end_of_line
      }
      if (!newline()) return;
    }
  }

  Status end_of_line() {
    skip_spaces();
    SOV_RETURN_IF_ERROR(skip_comment());
    if (at_end() || newline()) return Status::ok();
    return error(fmt::format("expected the end of the line, found {}", describe_here()));
  }

  // Whitespace, newlines and comments inside arrays.
  Status skip_array_space() {
    while (!at_end()) {
      skip_spaces();
      SOV_RETURN_IF_ERROR(skip_comment());
      if (!newline()) break;
    }
    return Status::ok();
  }

  Result<std::string> simple_key() {
    const char c = peek();
    if (c == '"') return basic_string();
    if (c == '\'') return literal_string();
    const size_t start = pos_;
    while (!at_end() && is_bare_key_char(peek())) advance();
    if (pos_ == start) return error(fmt::format("expected a key, found {}", describe_here()));
    return std::string(s_.substr(start, pos_ - start));
  }

  Result<std::vector<std::string>> dotted_key() {
    std::vector<std::string> parts;
    while (true) {
      skip_spaces();
      SOV_ASSIGN_OR_RETURN(std::string part, simple_key());
      parts.push_back(std::move(part));
      if (parts.size() > kMaxKeyParts) return error("key has too many dotted parts");
      skip_spaces();
      if (peek() != '.') break;
      advance();
    }
    return parts;
  }

  static std::string join(const std::vector<std::string>& parts, size_t n) {
    std::string out;
    for (size_t i = 0; i < n && i < parts.size(); ++i) {
      if (i) out += '.';
      out += parts[i];
    }
    return out;
  }

  // Walks (creating implicit tables) the path `parts[0..n)` from `table`; arrays of tables
  // are entered at their last element.
  Result<Value*> walk(Value* table, const std::vector<std::string>& parts, size_t n, bool dotted) {
    for (size_t i = 0; i < n; ++i) {
      Value* next = table->find_mut(parts[i]);
      if (!next) {
        Value t = Value::table(line_);
        t.set_origin(dotted ? Value::Origin::kDotted : Value::Origin::kImplicit);
        next = table->add(parts[i], std::move(t));
      } else if (!dotted && next->is_array() && next->origin() == Value::Origin::kArrayOfTables) {
        next = next->last_item();
      } else if (!next->is_table() || next->origin() == Value::Origin::kValue) {
        return error(fmt::format("\"{}\" is already defined as a {} (line {})", join(parts, i + 1),
                                 Value::type_name(next->type()), next->line()));
      } else if (dotted && next->origin() == Value::Origin::kHeader) {
        // A dotted key may not extend a table defined by a header elsewhere; the current
        // table's own sub-tables are fine (handled by the caller starting below it).
        return error(fmt::format("cannot add to table [{}] with a dotted key here", join(parts, i + 1)));
      }
      table = next;
    }
    return table;
  }

  Status header() {
    const int header_line = line_;
    advance();  // '['
    const bool array_of_tables = peek() == '[';
    if (array_of_tables) advance();
    SOV_ASSIGN_OR_RETURN(auto parts, dotted_key());
    if (peek() != ']')
      return error(fmt::format("expected ']' after the table name, found {}", describe_here()));
    advance();
    if (array_of_tables) {
      if (peek() != ']') return error("expected ']]' to close the array-of-tables header");
      advance();
    }
    SOV_ASSIGN_OR_RETURN(Value * parent, walk(&root_, parts, parts.size() - 1, false));
    const std::string& last = parts.back();
    Value* existing = parent->find_mut(last);
    if (array_of_tables) {
      if (!existing) {
        Value a = Value::array(header_line);
        a.set_origin(Value::Origin::kArrayOfTables);
        existing = parent->add(last, std::move(a));
      } else if (!existing->is_array() || existing->origin() != Value::Origin::kArrayOfTables) {
        return error(fmt::format("[[{}]]: \"{}\" is already defined as a {} (line {})",
                                 join(parts, parts.size()), join(parts, parts.size()),
                                 Value::type_name(existing->type()), existing->line()));
      }
      Value t = Value::table(header_line);
      t.set_origin(Value::Origin::kHeader);
      current_ = existing->push(std::move(t));
      return Status::ok();
    }
    if (!existing) {
      Value t = Value::table(header_line);
      t.set_origin(Value::Origin::kHeader);
      current_ = parent->add(last, std::move(t));
      return Status::ok();
    }
    if (!existing->is_table()) {
      return error(fmt::format("[{}]: \"{}\" is already defined as a {} (line {})", join(parts, parts.size()),
                               join(parts, parts.size()), Value::type_name(existing->type()),
                               existing->line()));
    }
    if (existing->origin() == Value::Origin::kImplicit) {
      existing->set_origin(Value::Origin::kHeader);
      current_ = existing;
      return Status::ok();
    }
    return error(
        fmt::format("[{}] is defined twice (first on line {})", join(parts, parts.size()), existing->line()));
  }

  Status key_value(Value* table) {
    SOV_ASSIGN_OR_RETURN(auto parts, dotted_key());
    if (peek() != '=')
      return error(
          fmt::format("expected '=' after key \"{}\", found {}", join(parts, parts.size()), describe_here()));
    advance();
    skip_spaces();
    SOV_ASSIGN_OR_RETURN(Value * parent, walk(table, parts, parts.size() - 1, true));
    if (parent->find_mut(parts.back())) {
      return error(fmt::format("duplicate key \"{}\"", join(parts, parts.size())));
    }
    SOV_ASSIGN_OR_RETURN(Value v, value(0));
    parent->add(parts.back(), std::move(v));
    return Status::ok();
  }

  Result<Value> value(int depth) {
    if (depth > kMaxDepth) return error("values nested too deeply");
    const int at = line_;
    const char c = peek();
    if (c == '"') {
      if (peek(1) == '"' && peek(2) == '"') return error("multi-line strings (\"\"\") are not supported");
      SOV_ASSIGN_OR_RETURN(std::string s, basic_string());
      return Value::string(std::move(s), at);
    }
    if (c == '\'') {
      if (peek(1) == '\'' && peek(2) == '\'') return error("multi-line strings (''') are not supported");
      SOV_ASSIGN_OR_RETURN(std::string s, literal_string());
      return Value::string(std::move(s), at);
    }
    if (c == '[') return array(depth);
    if (c == '{') return inline_table(depth);
    if (s_.substr(pos_).starts_with("true") && !is_bare_key_char(peek(4))) {
      for (int i = 0; i < 4; ++i) advance();
      return Value::boolean(true, at);
    }
    if (s_.substr(pos_).starts_with("false") && !is_bare_key_char(peek(5))) {
      for (int i = 0; i < 5; ++i) advance();
      return Value::boolean(false, at);
    }
    if (c == '+' || c == '-' || (c >= '0' && c <= '9') || c == 'i' || c == 'n') return number();
    return error(fmt::format("expected a value, found {}", describe_here()));
  }

  Result<Value> array(int depth) {
    Value a = Value::array(line_);
    advance();  // '['
    while (true) {
      SOV_RETURN_IF_ERROR(skip_array_space());
      if (at_end()) return error("unterminated array (missing ']')");
      if (peek() == ']') {
        advance();
        return a;
      }
      SOV_ASSIGN_OR_RETURN(Value v, value(depth + 1));
      a.push(std::move(v));
      SOV_RETURN_IF_ERROR(skip_array_space());
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') {
        advance();
        return a;
      }
      if (at_end()) return error("unterminated array (missing ']')");
      return error(fmt::format("expected ',' or ']' in an array, found {}", describe_here()));
    }
  }

  Result<Value> inline_table(int depth) {
    if (depth > kMaxDepth) return error("values nested too deeply");
    Value t = Value::table(line_);
    advance();  // '{'
    skip_spaces();
    if (peek() == '}') {
      advance();
      return t;
    }
    while (true) {
      skip_spaces();
      if (at_end() || peek() == '\n' || peek() == '\r') return error("inline tables must be on one line");
      // Nested values of an inline table go through value() with depth accounting.
      SOV_ASSIGN_OR_RETURN(auto parts, dotted_key());
      if (peek() != '=')
        return error(fmt::format("expected '=' after key \"{}\", found {}", join(parts, parts.size()),
                                 describe_here()));
      advance();
      skip_spaces();
      SOV_ASSIGN_OR_RETURN(Value * parent, walk(&t, parts, parts.size() - 1, true));
      if (parent->find_mut(parts.back()))
        return error(fmt::format("duplicate key \"{}\"", join(parts, parts.size())));
      SOV_ASSIGN_OR_RETURN(Value v, value(depth + 1));
      parent->add(parts.back(), std::move(v));
      skip_spaces();
      if (peek() == ',') {
        advance();
        skip_spaces();
        if (peek() == '}') return error("trailing comma in an inline table");
        continue;
      }
      if (peek() == '}') {
        advance();
        break;
      }
      return error(fmt::format("expected ',' or '}}' in an inline table, found {}", describe_here()));
    }
    mark_values(&t);
    return t;
  }

  // Tables inside an inline table are closed for later headers and dotted keys.
  static void mark_values(Value* v) {
    v->set_origin(Value::Origin::kValue);
    if (v->is_table()) {
      for (size_t i = 0; i < v->values().size(); ++i) mark_values(v->item(i));
    }
  }

  Result<std::string> basic_string() {
    advance();  // '"'
    std::string out;
    while (true) {
      if (at_end() || peek() == '\n' || peek() == '\r') return error("unterminated string (missing '\"')");
      const char c = peek();
      if (c == '"') {
        advance();
        return out;
      }
      const unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return error("control character in a string (use an escape)");
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      advance();
      const char e = peek();
      if (at_end()) return error("unterminated string (missing '\"')");
      advance();
      switch (e) {
        case 'b': out += '\b'; break;
        case 't': out += '\t'; break;
        case 'n': out += '\n'; break;
        case 'f': out += '\f'; break;
        case 'r': out += '\r'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'u':
        case 'U': {
          const int n = e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < n; ++i) {
            const char h = peek();
            int d = -1;
            if (h >= '0' && h <= '9') d = h - '0';
            if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
            if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
            if (d < 0) return error(fmt::format("\\{} needs {} hex digits", e, n));
            cp = cp * 16 + static_cast<uint32_t>(d);
            advance();
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return error(fmt::format("\\{} escape is not a Unicode scalar value", e));
          utf8::append(&out, cp);
          break;
        }
        default: return error(fmt::format("unknown escape sequence '\\{}'", e));
      }
    }
  }

  Result<std::string> literal_string() {
    advance();  // '\''
    const size_t start = pos_;
    while (true) {
      if (at_end() || peek() == '\n' || peek() == '\r') return error("unterminated string (missing \"'\")");
      const unsigned char u = static_cast<unsigned char>(peek());
      if ((u < 0x20 && u != '\t') || u == 0x7f) return error("control character in a string");
      if (peek() == '\'') break;
      advance();
    }
    std::string out(s_.substr(start, pos_ - start));
    advance();
    return out;
  }

  Result<Value> number() {
    const int at = line_;
    const size_t start = pos_;
    while (!at_end()) {
      const char c = peek();
      if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '_' || c == '.' || c == 'e' || c == 'E' ||
          (c >= 'a' && c <= 'z') || c == ':' || c == 'T' || c == 'Z') {
        advance();
      } else {
        break;
      }
    }
    std::string_view text = s_.substr(start, pos_ - start);
    std::string_view body = text;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
    if (body == "inf" || body == "nan") return error("inf and nan are not supported");
    if (body.starts_with("0x") || body.starts_with("0o") || body.starts_with("0b"))
      return error("only decimal integers are supported");
    if (body.find(':') != std::string_view::npos ||
        (body.size() >= 5 && body[4] == '-' && text[0] != '-' && text[0] != '+'))
      return error("dates and times are not supported");
    // Digits with single underscores between digits.
    std::string clean;
    bool is_float = false;
    char prev = '\0';
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '_') {
        const char next = i + 1 < text.size() ? text[i + 1] : '\0';
        if (!(prev >= '0' && prev <= '9') || !(next >= '0' && next <= '9'))
          return error(fmt::format("malformed number \"{}\" (misplaced '_')", text));
      } else {
        if (c == '.' || c == 'e' || c == 'E') is_float = true;
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
          return error(fmt::format("malformed number \"{}\"", text));
        clean += c;
      }
      prev = c;
    }
    // Leading zeros are not allowed ("01", "-01"), "0" and "0.5" are.
    std::string_view digits = clean;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
    if (digits.empty() || !(digits[0] >= '0' && digits[0] <= '9'))
      return error(fmt::format("malformed number \"{}\"", text));
    if (digits.size() > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9')
      return error(fmt::format("malformed number \"{}\" (leading zero)", text));
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(clean.c_str(), &end, 10);
      if (errno == ERANGE) return error(fmt::format("integer \"{}\" is out of range", text));
      if (end != clean.c_str() + clean.size()) return error(fmt::format("malformed number \"{}\"", text));
      return Value::integer(v, at);
    }
    // A float: digits [. digits] [e [+-] digits]; '.' needs digits on both sides.
    size_t i = 0;
    auto digit_run = [&] {
      const size_t b = i;
      while (i < digits.size() && digits[i] >= '0' && digits[i] <= '9') ++i;
      return i > b;
    };
    bool ok = digit_run();
    if (ok && i < digits.size() && digits[i] == '.') {
      ++i;
      ok = digit_run();
    }
    if (ok && i < digits.size() && (digits[i] == 'e' || digits[i] == 'E')) {
      ++i;
      if (i < digits.size() && (digits[i] == '+' || digits[i] == '-')) ++i;
      ok = digit_run();
    }
    if (!ok || i != digits.size()) return error(fmt::format("malformed number \"{}\"", text));
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(clean.c_str(), &end);
    if (end != clean.c_str() + clean.size() || !std::isfinite(v))
      return error(fmt::format("number \"{}\" is out of range", text));
    return Value::floating(v, at);
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
  Value root_;
  Value* current_ = nullptr;
};

}  // namespace

Result<Value> parse(std::string_view text) {
  return Parser(text).run();
}

}  // namespace sov::router::toml
