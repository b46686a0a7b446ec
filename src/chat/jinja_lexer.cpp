#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/utf8.h"
#include "chat/jinja_error.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

const char* token_type_name(TokenType type) {
  switch (type) {
    case TokenType::kData: return "template data";
    case TokenType::kVariableBegin: return "begin of print statement";
    case TokenType::kVariableEnd: return "end of print statement";
    case TokenType::kBlockBegin: return "begin of statement block";
    case TokenType::kBlockEnd: return "end of statement block";
    case TokenType::kName: return "name";
    case TokenType::kString: return "string";
    case TokenType::kInteger: return "integer";
    case TokenType::kFloat: return "float";
    case TokenType::kOperator: return "operator";
    case TokenType::kEof: return "end of template";
  }
  return "token";
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options) : opt_(options) {
    // Normalise \r\n and \r to \n, then drop one trailing newline.
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_.push_back('\n');
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_.push_back(source[i]);
      }
    }
    if (!opt_.keep_trailing_newline && !src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    const size_t n = src_.size();
    while (pos_ < n) {
      size_t tag = find_tag_start(pos_);
      if (tag == std::string::npos) {
        emit_data(pos_, n - pos_);
        pos_ = n;
        break;
      }
      char kind = src_[tag + 1];
      size_t p = tag + 2;
      char sign = 0;
      if (p < n && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      size_t raw_body = 0;
      bool raw = kind == '%' && match_raw_begin(p, &raw_body);
      std::string_view text(src_.data() + pos_, tag - pos_);
      text = apply_lstrip(text, sign, kind != '{');
      if (!text.empty()) push(TokenType::kData, std::string(text), pos_);
      line_starting_ = false;
      if (raw) {
        line_starting_ = src_[raw_body - 1] == '\n';
        lex_raw(raw_body);
      } else if (kind == '#') {
        lex_comment(tag, p);
      } else {
        push(kind == '{' ? TokenType::kVariableBegin : TokenType::kBlockBegin, src_.substr(tag, p - tag),
             tag);
        pos_ = p;
        lex_tag(kind == '%');
      }
    }
    push(TokenType::kEof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& message, size_t at) {
    auto [line, col] = location(at);
    throw Error("TemplateSyntaxError", message, line, col);
  }

  // 1-based line and column (in code points) of byte offset `at`. Tokens arrive in order, so
  // the column is counted on from the previous query on the same line (linear overall).
  std::pair<int, int> location(size_t at) {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    size_t line_start = *(it - 1);
    int line = static_cast<int>(it - line_starts_.begin());
    if (line != cache_line_ || at < cache_pos_) {
      cache_line_ = line;
      cache_pos_ = line_start;
      cache_col_ = 1;
    }
    cache_col_ += static_cast<int>(text::length(std::string_view(src_).substr(cache_pos_, at - cache_pos_)));
    cache_pos_ = at;
    return {line, cache_col_};
  }

  void push(TokenType type, std::string value, size_t at) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    auto [line, col] = location(at);
    t.line = line;
    t.column = col;
    tokens_.push_back(std::move(t));
  }

  void emit_data(size_t at, size_t len) {
    if (len > 0) push(TokenType::kData, src_.substr(at, len), at);
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // Length of the (Unicode) whitespace character at `at`, or 0.
  size_t space_at(size_t at) const {
    if (at >= src_.size()) return 0;
    auto c = static_cast<unsigned char>(src_[at]);
    if (c < 0x80) return text::is_space(c) ? 1 : 0;
    size_t p = at;
    uint32_t cp = utf8::decode(src_, &p);
    return text::is_space(cp) ? p - at : 0;
  }

  size_t skip_space(size_t at) const {
    while (size_t len = space_at(at)) at += len;
    return at;
  }

  bool starts(size_t at, std::string_view s) const { return src_.compare(at, s.size(), s) == 0; }

  // `{%` + sign already consumed up to `p`: is this `{% raw %}`? Sets *body to after the tag.
  bool match_raw_begin(size_t p, size_t* body) const {
    size_t q = skip_space(p);
    if (!starts(q, "raw")) return false;
    q = skip_space(q + 3);
    if (starts(q, "-%}")) {
      *body = skip_space(q + 3);
      return true;
    }
    if (starts(q, "%}")) {
      *body = q + 2;
      return true;
    }
    return false;
  }

  // Applies "-" (strip all trailing whitespace) or lstrip_blocks to the data before a tag.
  std::string_view apply_lstrip(std::string_view text, char sign, bool lstrip_applies) const {
    if (sign == '-') {
      size_t e = text.size();
      while (e > 0) {
        // Walk back over whitespace, decoding multi-byte spaces.
        size_t b = e - 1;
        while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        size_t p = b;
        uint32_t cp = utf8::decode(text, &p);
        if (!text::is_space(cp)) break;
        e = b;
      }
      return text.substr(0, e);
    }
    if (sign == '+' || !opt_.lstrip_blocks || !lstrip_applies) return text;
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return text;
    if (l_pos >= text.size()) return text;
    std::string_view tail = text.substr(l_pos);
    size_t p = 0;
    while (p < tail.size()) {
      uint32_t cp = utf8::decode(tail, &p);
      if (!text::is_space(cp)) return text;
    }
    return text.substr(0, l_pos);
  }

  // After a block/comment end marker at `at` (just past "%}" / "#}"): trim_blocks newline.
  size_t after_end(size_t at, char sign) const {
    if (sign == '-') return skip_space(at);
    if (sign == 0 && opt_.trim_blocks && at < src_.size() && src_[at] == '\n') return at + 1;
    return at;
  }

  void lex_raw(size_t body) {
    for (size_t i = src_.find("{%", body); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t q = i + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = skip_space(q);
      if (!starts(q, "endraw")) continue;
      q = skip_space(q + 6);
      char end_sign = 0;
      if (starts(q, "+%}") || starts(q, "-%}")) {
        end_sign = src_[q];
        q += 3;
      } else if (starts(q, "%}")) {
        q += 2;
      } else {
        continue;
      }
      std::string_view text(src_.data() + body, i - body);
      text = apply_lstrip(text, sign, true);
      if (!text.empty()) push(TokenType::kData, std::string(text), body);
      pos_ = after_end(q, end_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return;
    }
    fail("Missing end of raw directive", body);
  }

  void lex_comment(size_t tag, size_t p) {
    for (size_t i = p; i < src_.size(); ++i) {
      char end_sign = 0;
      size_t q;
      if ((src_[i] == '+' || src_[i] == '-') && starts(i + 1, "#}")) {
        end_sign = src_[i];
        q = i + 3;
      } else if (starts(i, "#}")) {
        q = i + 2;
      } else {
        continue;
      }
      pos_ = after_end(q, end_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return;
    }
    fail("Missing end of comment tag", tag);
  }

  void lex_tag(bool block) {
    std::vector<char> balance;
    const size_t n = src_.size();
    while (pos_ < n) {
      if (balance.empty()) {
        size_t end = 0;
        char sign = 0;
        if (block) {
          if (starts(pos_, "+%}") || starts(pos_, "-%}")) {
            sign = src_[pos_];
            end = pos_ + 3;
          } else if (starts(pos_, "%}")) {
            end = pos_ + 2;
          }
        } else if (starts(pos_, "-}}")) {
          sign = '-';
          end = pos_ + 3;
        } else if (starts(pos_, "}}")) {
          end = pos_ + 2;
        }
        if (end) {
          push(block ? TokenType::kBlockEnd : TokenType::kVariableEnd, src_.substr(pos_, end - pos_), pos_);
          pos_ = block ? after_end(end, sign) : (sign == '-' ? skip_space(end) : end);
          line_starting_ = src_[pos_ - 1] == '\n';
          return;
        }
      }
      if (size_t len = space_at(pos_)) {
        pos_ += len;
        continue;
      }
      char c = src_[pos_];
      if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t b = pos_;
        while (pos_ < n && is_name_char(src_[pos_])) ++pos_;
        push(TokenType::kName, src_.substr(b, pos_ - b), b);
      } else if (c == '\'' || c == '"') {
        lex_string();
      } else {
        lex_operator(&balance);
      }
    }
    // End of input inside a tag: the parser reports what it was looking for.
  }

  // Digits with single "_" separators; returns the end position (== at when none).
  size_t scan_digits(size_t at, bool (*ok)(char)) const {
    size_t p = at;
    if (p >= src_.size() || !ok(src_[p])) return at;
    while (p < src_.size()) {
      if (ok(src_[p])) {
        ++p;
      } else if (src_[p] == '_' && p + 1 < src_.size() && ok(src_[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    return p;
  }

  static std::string without_underscores(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c != '_') out.push_back(c);
    }
    return out;
  }

  void lex_number() {
    size_t b = pos_;
    bool after_dot = b > 0 && src_[b - 1] == '.';
    size_t p = scan_digits(b, is_digit);
    bool is_float = false;
    if (!after_dot) {
      size_t q = p;
      if (q < src_.size() && src_[q] == '.' && q + 1 < src_.size() && is_digit(src_[q + 1])) {
        q = scan_digits(q + 1, is_digit);
        is_float = true;
      }
      if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
        size_t e = q + 1;
        if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
        size_t e_end = scan_digits(e, is_digit);
        if (e_end > e) {
          q = e_end;
          is_float = true;
        }
      }
      if (is_float) {
        std::string digits = without_underscores(std::string_view(src_).substr(b, q - b));
        Token t;
        t.type = TokenType::kFloat;
        t.value = digits;
        t.float_value = std::strtod(digits.c_str(), nullptr);
        auto [line, col] = location(b);
        t.line = line;
        t.column = col;
        tokens_.push_back(std::move(t));
        pos_ = q;
        return;
      }
    }
    // Integer: 0b / 0o / 0x prefixes, decimal without leading zeros, or zeros.
    int base = 10;
    size_t digits_begin = b, end;
    char x = b + 1 < src_.size() ? static_cast<char>(src_[b + 1] | 0x20) : 0;
    auto bin = [](char c) { return c == '0' || c == '1'; };
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    auto hex = [](char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); };
    auto scan_prefixed = [&](bool (*ok)(char)) {
      // Python allows "_" right after the prefix: 0x_ff.
      size_t s = b + 2;
      if (s < src_.size() && src_[s] == '_') ++s;
      return scan_digits(s, ok);
    };
    if (src_[b] == '0' && (x == 'b' || x == 'o' || x == 'x')) {
      base = x == 'b' ? 2 : (x == 'o' ? 8 : 16);
      end = scan_prefixed(base == 2 ? +bin : (base == 8 ? +oct : +hex));
      if (end == b + 2 || end == b + 3)
        end = b + 1;  // no digits: just "0"
      else
        digits_begin = b + 2;
    } else if (src_[b] == '0') {
      end = b + 1;
      while (end < src_.size() &&
             (src_[end] == '0' || (src_[end] == '_' && end + 1 < src_.size() && src_[end + 1] == '0'))) {
        ++end;
      }
    } else {
      end = p;
    }
    if (end == b + 1 && src_[b] == '0') base = 10, digits_begin = b;
    std::string digits = without_underscores(std::string_view(src_).substr(digits_begin, end - digits_begin));
    errno = 0;
    char* stop = nullptr;
    long long v = std::strtoll(digits.c_str(), &stop, base);
    if (errno == ERANGE) fail("integer literal too large", b);
    Token t;
    t.type = TokenType::kInteger;
    t.value = std::string(src_.substr(b, end - b));
    t.int_value = v;
    auto [line, col] = location(b);
    t.line = line;
    t.column = col;
    tokens_.push_back(std::move(t));
    pos_ = end;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  // Python "unicode-escape" decoding of a literal's body.
  std::string unescape(std::string_view body, size_t at) {
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c != '\\' || i + 1 >= body.size()) {
        out.push_back(c);
        continue;
      }
      char e = body[++i];
      switch (e) {
        case '\n': break;  // line continuation
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x':
        case 'u':
        case 'U': {
          int len = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            int h = i + 1 + k < body.size() ? hex_value(body[i + 1 + k]) : -1;
            if (h < 0) fail(std::string("truncated \\") + e + " escape", at);
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF) fail("illegal Unicode character", at);
          i += len;
          text::append_utf8(&out, cp);
          break;
        }
        case 'N': fail("\\N{...} escapes are not supported", at);
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = e - '0';
            for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
              cp = cp * 8 + (body[++i] - '0');
            }
            text::append_utf8(&out, cp);
          } else {
            out.push_back('\\');  // unknown escapes keep their backslash
            out.push_back(e);
          }
      }
    }
    return out;
  }

  void lex_string() {
    size_t b = pos_;
    char q = src_[b];
    size_t i = b + 1;
    while (i < src_.size() && src_[i] != q) i += src_[i] == '\\' ? 2 : 1;
    if (i >= src_.size()) fail(std::string("unexpected char '") + q + "' (unterminated string)", b);
    std::string value = unescape(std::string_view(src_).substr(b + 1, i - b - 1), b);
    push(TokenType::kString, std::move(value), b);
    pos_ = i + 1;
  }

  void lex_operator(std::vector<char>* balance) {
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (auto op : kTwo) {
      if (starts(pos_, op)) {
        push(TokenType::kOperator, std::string(op), pos_);
        pos_ += 2;
        return;
      }
    }
    char c = src_[pos_];
    static constexpr std::string_view kOne = "+-/*%~[](){}><=.:|,;";
    if (kOne.find(c) == std::string_view::npos) {
      size_t p = pos_;
      std::string ch;
      text::append_utf8(&ch, utf8::decode(src_, &p));
      fail("unexpected char '" + ch + "'", pos_);
    }
    if (c == '(' || c == '[' || c == '{') {
      balance->push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance->empty()) fail(std::string("unexpected '") + c + "'", pos_);
      char expected = balance->back();
      balance->pop_back();
      if (expected != c) fail(std::string("unexpected '") + c + "', expected '" + expected + "'", pos_);
    }
    push(TokenType::kOperator, std::string(1, c), pos_);
    ++pos_;
  }

  LexerOptions opt_;
  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  int cache_line_ = 0;
  size_t cache_pos_ = 0;
  int cache_col_ = 1;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace sov::chat::jinja
