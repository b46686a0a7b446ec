#include "grammar/regex_to_grammar.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/utf8.h"

namespace sov::grammar {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

constexpr int kMaxDepth = 50;
constexpr uint32_t kMaxRepeat = 1000;

void normalize(Ranges* r) {
  std::sort(r->begin(), r->end());
  Ranges out;
  for (const auto& x : *r) {
    if (!out.empty() && x.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, x.second);
    } else {
      out.push_back(x);
    }
  }
  *r = std::move(out);
}

// Every Unicode scalar value not in `r` (surrogates are never characters).
Ranges complement(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.push_back({next, lo - 1});
    next = hi + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  Ranges cut;
  for (const auto& [lo, hi] : out) {
    if (hi < 0xD800 || lo > 0xDFFF) {
      cut.push_back({lo, hi});
      continue;
    }
    if (lo < 0xD800) cut.push_back({lo, 0xD7FF});
    if (hi > 0xDFFF) cut.push_back({0xE000, hi});
  }
  return cut;
}

Ranges intersect(const Ranges& a, const Ranges& b) {
  Ranges out;
  for (const auto& x : a) {
    for (const auto& y : b) {
      uint32_t lo = std::max(x.first, y.first), hi = std::min(x.second, y.second);
      if (lo <= hi) out.push_back({lo, hi});
    }
  }
  normalize(&out);
  return out;
}

std::string class_cp(uint32_t cp) {
  if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
    return std::string(1, static_cast<char>(cp));
  }
  if (cp <= 0xFFFF) return fmt::format("\\u{:04X}", cp);
  return fmt::format("\\U{:08X}", cp);
}

Ranges digits() {
  return {{'0', '9'}};
}
Ranges word() {
  Ranges r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return r;
}
Ranges space() {
  Ranges r = {{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
              {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
  return r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class RegexParser {
 public:
  RegexParser(std::string_view p, std::string any) : p_(p), any_(std::move(any)) {}

  Result<std::string> run() {
    SOV_ASSIGN_OR_RETURN(std::string e, parse_alt(0));
    if (i_ < p_.size()) return error(fmt::format("unexpected '{}'", p_[i_]));
    return e;
  }

 private:
  Status error(const std::string& m) const {
    return Status::invalid_argument(fmt::format("pattern \"{}\" at offset {}: {}", p_, i_, m));
  }
  Status refuse(const std::string& what) const {
    return Status::invalid_argument(fmt::format(
        "pattern \"{}\" uses {} (offset {}), which structured output cannot enforce", p_, what, i_));
  }
  bool at(char c) const { return i_ < p_.size() && p_[i_] == c; }

  Result<std::string> parse_alt(int depth) {
    if (depth > kMaxDepth) return error("groups nested too deeply");
    std::vector<std::string> alts;
    for (;;) {
      SOV_ASSIGN_OR_RETURN(std::string s, parse_seq(depth));
      alts.push_back(std::move(s));
      if (!at('|')) break;
      ++i_;
    }
    if (alts.size() == 1) return "(" + alts[0] + ")";
    std::string out = "(";
    for (size_t k = 0; k < alts.size(); ++k) {
      if (k) out += " | ";
      out += alts[k];
    }
    return out + ")";
  }

  Result<std::string> parse_seq(int depth) {
    std::string out;
    bool anchored_start = false, anchored_end = false;
    const bool top = depth == 0;
    if (at('^')) {
      if (!top) return refuse("'^' inside a group");
      anchored_start = true;
      ++i_;
    }
    while (i_ < p_.size() && !at('|') && !at(')')) {
      if (at('$')) {
        ++i_;
        if (!top || (i_ < p_.size() && !at('|'))) return refuse("'$' before the end of the pattern");
        anchored_end = true;
        break;
      }
      if (at('^')) return refuse("'^' after the start of the pattern");
      SOV_ASSIGN_OR_RETURN(std::string atom, parse_atom(depth));
      SOV_ASSIGN_OR_RETURN(std::string quant, parse_quantifier());
      if (!out.empty()) out += " ";
      out += atom + quant;
    }
    if (top) {
      if (!anchored_start) out = any_ + "*" + (out.empty() ? "" : " " + out);
      if (!anchored_end) out = out + (out.empty() ? "" : " ") + any_ + "*";
    }
    return out;
  }

  // "" for none; else *, +, ?, or {m,n}. A lazy "?" after it changes nothing here.
  Result<std::string> parse_quantifier() {
    if (i_ >= p_.size()) return std::string();
    std::string q;
    const char c = p_[i_];
    if (c == '*' || c == '+' || c == '?') {
      ++i_;
      q = std::string(1, c);
    } else if (c == '{') {
      size_t save = i_;
      ++i_;
      auto number = [&](uint32_t* v) -> bool {
        size_t start = i_;
        uint64_t n = 0;
        while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
          n = std::min<uint64_t>(n * 10 + static_cast<uint64_t>(p_[i_] - '0'), 1u << 30);
          ++i_;
        }
        *v = static_cast<uint32_t>(n);
        return i_ > start;
      };
      uint32_t m = 0, n = 0;
      bool has_max = true;
      if (!number(&m)) {
        i_ = save;
        return std::string();  // a literal '{' (Annex B)
      }
      if (at(',')) {
        ++i_;
        has_max = number(&n);
      } else {
        n = m;
      }
      if (!at('}')) {
        i_ = save;
        return std::string();
      }
      ++i_;
      if (m > kMaxRepeat || (has_max && n > kMaxRepeat)) {
        return error(fmt::format("repetition count over {}", kMaxRepeat));
      }
      if (has_max && n < m) return error("{m,n} with n < m");
      q = has_max ? (m == n ? fmt::format("{{{}}}", m) : fmt::format("{{{},{}}}", m, n))
                  : fmt::format("{{{},}}", m);
    } else {
      return std::string();
    }
    if (at('?')) ++i_;  // lazy
    if (i_ < p_.size() && (at('*') || at('+') || at('?') || at('{'))) {
      if (!at('{')) return error("nothing to repeat");
    }
    return q;
  }

  Result<std::string> parse_atom(int depth) {
    const char c = p_[i_];
    if (c == '(') {
      ++i_;
      if (at('?')) {
        ++i_;
        if (at(':')) {
          ++i_;
        } else if (at('<') && i_ + 1 < p_.size() && p_[i_ + 1] != '=' && p_[i_ + 1] != '!') {
          while (i_ < p_.size() && p_[i_] != '>') ++i_;  // named group
          if (!at('>')) return error("unterminated group name");
          ++i_;
        } else {
          return refuse("lookahead or lookbehind");
        }
      }
      SOV_ASSIGN_OR_RETURN(std::string inner, parse_alt(depth + 1));
      if (!at(')')) return error("missing ')'");
      ++i_;
      return inner;
    }
    if (c == '*' || c == '+' || c == '?') return error("nothing to repeat");
    Ranges set;
    if (c == '[') {
      SOV_ASSIGN_OR_RETURN(set, parse_class());
    } else if (c == '.') {
      ++i_;
      set = complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});
    } else if (c == '\\') {
      SOV_ASSIGN_OR_RETURN(set, parse_escape(false));
    } else {
      SOV_ASSIGN_OR_RETURN(uint32_t cp, literal_cp());
      set = {{cp, cp}};
    }
    std::string e = json_char_set_gbnf(set);
    if (e.empty()) return error("a character set that matches nothing");
    return e;
  }

  Result<uint32_t> literal_cp() {
    const size_t len = utf8::sequence_length(static_cast<uint8_t>(p_[i_]));
    if (len == 0 || i_ + len > p_.size() || !utf8::is_valid(p_.substr(i_, len)))
      return error("invalid UTF-8");
    size_t pos = i_;
    uint32_t cp = utf8::decode(p_, &pos);
    i_ += len;
    return cp;
  }

  Result<uint32_t> hex(int n) {
    uint32_t v = 0;
    for (int k = 0; k < n; ++k) {
      if (i_ >= p_.size() || hex_value(p_[i_]) < 0) return error("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(hex_value(p_[i_++]));
    }
    return v;
  }

  // After '\': a set (\d, \w, \s and negations) or one character.
  Result<Ranges> parse_escape(bool in_class) {
    ++i_;
    if (i_ >= p_.size()) return error("pattern ends with '\\'");
    const char e = p_[i_++];
    auto one = [](uint32_t cp) { return Ranges{{cp, cp}}; };
    switch (e) {
      case 'd': return digits();
      case 'D': return complement(digits());
      case 'w': return word();
      case 'W': return complement(word());
      case 's': return space();
      case 'S': return complement(space());
      case 'n': return one('\n');
      case 'r': return one('\r');
      case 't': return one('\t');
      case 'f': return one('\f');
      case 'v': return one('\v');
      case '0': return one(0);
      case 'b':
        if (in_class) return one('\b');
        return refuse("a word boundary (\\b)");
      case 'B': return refuse("a word boundary (\\B)");
      case 'x': {
        SOV_ASSIGN_OR_RETURN(uint32_t v, hex(2));
        return one(v);
      }
      case 'u': {
        SOV_ASSIGN_OR_RETURN(uint32_t v, hex(4));
        if (v >= 0xD800 && v <= 0xDFFF) return refuse("a surrogate escape");
        return one(v);
      }
      case 'p':
      case 'P': return refuse("a Unicode property escape");
      case 'c': return refuse("a control escape (\\c)");
      case 'k': return refuse("a named backreference");
      default: break;
    }
    if (e >= '1' && e <= '9') return refuse("a backreference");
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
      return error(fmt::format("unknown escape \\{}", e));
    }
    --i_;
    SOV_ASSIGN_OR_RETURN(uint32_t cp, literal_cp());
    return one(cp);
  }

  Result<Ranges> parse_class() {
    ++i_;  // '['
    bool negated = false;
    if (at('^')) {
      negated = true;
      ++i_;
    }
    Ranges set;
    while (i_ < p_.size() && !at(']')) {
      Ranges item;
      bool single = false;
      uint32_t lo = 0;
      if (at('\\')) {
        SOV_ASSIGN_OR_RETURN(item, parse_escape(true));
        single = item.size() == 1 && item[0].first == item[0].second;
        lo = single ? item[0].first : 0;
      } else {
        SOV_ASSIGN_OR_RETURN(lo, literal_cp());
        item = {{lo, lo}};
        single = true;
      }
      if (single && at('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        uint32_t hi = 0;
        if (at('\\')) {
          SOV_ASSIGN_OR_RETURN(Ranges h, parse_escape(true));
          if (h.size() != 1 || h[0].first != h[0].second) return error("a class cannot end a range");
          hi = h[0].first;
        } else {
          SOV_ASSIGN_OR_RETURN(hi, literal_cp());
        }
        if (hi < lo) return error("range out of order in character class");
        item = {{lo, hi}};
      }
      set.insert(set.end(), item.begin(), item.end());
    }
    if (!at(']')) return error("missing ']'");
    ++i_;
    normalize(&set);
    if (negated) set = complement(set);
    // Surrogates are never characters.
    return intersect(set, complement({}));
  }

  std::string_view p_;
  std::string any_;
  size_t i_ = 0;
};

}  // namespace

std::string gbnf_literal(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += fmt::format("\\x{:02X}", c);
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string json_char_set_gbnf(const Ranges& input) {
  Ranges ranges = input;
  normalize(&ranges);
  // Characters JSON must escape.
  const Ranges special = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
  const Ranges plain = intersect(ranges, complement(special));
  const Ranges escaped = intersect(ranges, special);
  std::vector<std::string> alts;
  if (!plain.empty()) {
    if (plain.size() == 1 && plain[0].first == plain[0].second && plain[0].first < 0x80) {
      alts.push_back(gbnf_literal(std::string(1, static_cast<char>(plain[0].first))));
    } else {
      std::string cls = "[";
      for (const auto& [lo, hi] : plain) {
        cls += class_cp(lo);
        if (hi != lo) cls += "-" + class_cp(hi);
      }
      alts.push_back(cls + "]");
    }
  }
  for (const auto& [lo, hi] : escaped) {
    for (uint32_t cp = lo; cp <= hi; ++cp) {
      switch (cp) {
        case '"': alts.push_back("\"\\\\\\\"\""); break;   // the two characters \"
        case '\\': alts.push_back("\"\\\\\\\\\""); break;  // \\ .
        case '\b': alts.push_back("\"\\\\b\""); break;
        case '\f': alts.push_back("\"\\\\f\""); break;
        case '\n': alts.push_back("\"\\\\n\""); break;
        case '\r': alts.push_back("\"\\\\r\""); break;
        case '\t': alts.push_back("\"\\\\t\""); break;
        default: alts.push_back(fmt::format("\"\\\\u{:04x}\"", cp));
      }
    }
  }
  if (alts.empty()) return "";
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t k = 0; k < alts.size(); ++k) {
    if (k) out += " | ";
    out += alts[k];
  }
  return out + ")";
}

Result<std::string> regex_to_gbnf(std::string_view pattern, const std::string& any_char_rule) {
  if (pattern.size() > 10000) return Status::invalid_argument("pattern longer than 10000 bytes");
  RegexParser parser(pattern, any_char_rule);
  return parser.run();
}

}  // namespace sov::grammar
