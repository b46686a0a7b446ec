// GBNF parser and compiler (see grammar.h for the syntax and the compiled form).
#include "grammar/grammar.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include "base/utf8.h"

namespace sov::grammar {

namespace {

constexpr uint32_t kInfinite = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Sorts and merges ranges so that they are disjoint and not adjacent.
void normalize(std::vector<std::pair<uint32_t, uint32_t>>* ranges) {
  std::sort(ranges->begin(), ranges->end());
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& r : *ranges) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  *ranges = std::move(out);
}

std::string escape_cp(uint32_t cp, bool in_class) {
  switch (cp) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\\': return "\\\\";
    case '"': return in_class ? "\"" : "\\\"";
    case ']': return in_class ? "\\]" : "]";
    case '[': return in_class ? "\\[" : "[";
    case '-': return in_class ? "\\-" : "-";
    case '^': return in_class ? "\\^" : "^";
    default: break;
  }
  if (cp < 0x20 || cp == 0x7F) return fmt::format("\\x{:02X}", cp);
  if (cp > 0x7F && cp <= 0xFFFF && cp >= 0xD800 && cp <= 0xDFFF) return fmt::format("\\u{:04X}", cp);
  std::string out;
  utf8::append(&out, cp);
  return out;
}

}  // namespace

bool CharClass::matches(uint32_t cp) const {
  // Ranges are sorted: binary search for the last range starting at or before cp.
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](uint32_t v, const std::pair<uint32_t, uint32_t>& r) { return v < r.first; });
  bool in = it != ranges.begin() && cp <= std::prev(it)->second;
  return in != negated;
}

bool CharClass::matches_any(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (const auto& r : ranges) {
      if (r.first <= hi && r.second >= lo) return true;
    }
    return false;
  }
  // Negated: true unless [lo, hi] lies inside one range (ranges are merged).
  for (const auto& r : ranges) {
    if (r.first <= lo && r.second >= hi) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  Result<std::shared_ptr<const Grammar>> run() {
    if (text_.size() > limits_.max_text_bytes) {
      return Status::invalid_argument(
          fmt::format("grammar is {} bytes; the limit is {}", text_.size(), limits_.max_text_bytes));
    }
    g_ = std::make_shared<Grammar>();
    skip_space(true);
    while (pos_ < text_.size()) {
      const size_t name_pos = pos_;
      std::string name = parse_name();
      if (name.empty()) return error("expected a rule name");
      skip_space(false);
      if (text_.substr(pos_, 3) != "::=") return error("expected \"::=\" after rule name \"" + name + "\"");
      pos_ += 3;
      skip_space(true);
      SOV_ASSIGN_OR_RETURN(uint32_t id, rule_id(name, name_pos));
      if (defined_[id]) return error_at(name_pos, "rule \"" + name + "\" is defined twice");
      defined_[id] = true;
      std::vector<Elem> elems;
      SOV_RETURN_IF_ERROR(parse_alternates(name, &elems, 0));
      rules_[id] = std::move(elems);
      skip_space(false);
      const bool at_next_rule = next_rule_;
      next_rule_ = false;
      if (!at_next_rule && pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return error(fmt::format("unexpected character '{}'", text_[pos_]));
      }
      skip_space(true);
    }
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (!defined_[i]) return error_at(first_use_[i], "undefined rule \"" + g_->rule_names_[i] + "\"");
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) return Status::invalid_argument("grammar has no rule named \"root\"");
    g_->root_ = root->second;
    SOV_RETURN_IF_ERROR(flatten());
    SOV_RETURN_IF_ERROR(check_left_recursion());
    return std::shared_ptr<const Grammar>(std::move(g_));
  }

 private:
  Status error_at(size_t offset, const std::string& message) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status::invalid_argument(fmt::format("grammar line {}, column {}: {}", line, col, message));
  }
  Status error(const std::string& message) const { return error_at(pos_, message); }

  // Skips spaces and comments; newlines too when `newlines`.
  void skip_space(bool newlines) {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Result<uint32_t> rule_id(const std::string& name, size_t offset) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    return new_rule(name, offset);
  }

  Result<uint32_t> new_rule(const std::string& name, size_t offset) {
    if (rules_.size() >= limits_.max_rules) {
      return error_at(offset, fmt::format("too many rules (limit {})", limits_.max_rules));
    }
    uint32_t id = static_cast<uint32_t>(rules_.size());
    ids_[name] = id;
    g_->rule_names_.push_back(name);
    rules_.emplace_back();
    defined_.push_back(false);
    first_use_.push_back(offset);
    return id;
  }

  // A helper rule named after its parent, defined by the caller.
  Result<uint32_t> helper_rule(const std::string& parent) {
    std::string name;
    do {
      name = fmt::format("{}_{}", parent, ++helper_counter_);
    } while (ids_.count(name));
    SOV_ASSIGN_OR_RETURN(uint32_t id, new_rule(name, pos_));
    defined_[id] = true;
    return id;
  }

  Status count_elems(size_t n) {
    n_elems_ += n;
    if (n_elems_ > limits_.max_elements) {
      return error(fmt::format("grammar too large after expanding repetitions (more than {} elements)",
                               limits_.max_elements));
    }
    return Status::ok();
  }

  Status parse_alternates(const std::string& rule, std::vector<Elem>* out, int depth) {
    const bool nested = depth > 0;
    SOV_RETURN_IF_ERROR(parse_sequence(rule, out, depth));
    for (;;) {
      size_t save = pos_;
      skip_space(true);  // "|" may start the next line even at the top level
      if (pos_ < text_.size() && text_[pos_] == '|') {
        ++pos_;
        out->push_back({ElemKind::kAlt, 0});
        skip_space(true);
        SOV_RETURN_IF_ERROR(parse_sequence(rule, out, depth));
      } else {
        if (!nested) pos_ = save;
        break;
      }
    }
    out->push_back({ElemKind::kEnd, 0});
    return count_elems(1);
  }

  Status parse_sequence(const std::string& rule, std::vector<Elem>* out, int depth) {
    const bool nested = depth > 0;
    size_t last_start = std::string::npos;
    for (;;) {
      skip_space(nested);
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      if (c == '"') {
        last_start = out->size();
        const size_t quote = pos_++;
        size_t n = 0;
        while (pos_ < text_.size() && text_[pos_] != '"') {
          SOV_ASSIGN_OR_RETURN(uint32_t cp, parse_char());
          out->push_back({ElemKind::kChars, intern_class({{{cp, cp}}, false})});
          ++n;
        }
        if (pos_ >= text_.size()) return error_at(quote, "unterminated string literal");
        ++pos_;
        SOV_RETURN_IF_ERROR(count_elems(n));
        if (n == 0) last_start = std::string::npos;  // "" is the empty sequence
      } else if (c == '[') {
        last_start = out->size();
        SOV_ASSIGN_OR_RETURN(CharClass cls, parse_class());
        out->push_back({ElemKind::kChars, intern_class(std::move(cls))});
        SOV_RETURN_IF_ERROR(count_elems(1));
      } else if (c == '.') {
        ++pos_;
        last_start = out->size();
        out->push_back({ElemKind::kChars, intern_class({{}, true})});
        SOV_RETURN_IF_ERROR(count_elems(1));
      } else if (is_name_char(c)) {
        // The start of the next rule ("name ::=") ends this one; only at the top level.
        size_t save = pos_;
        std::string name = parse_name();
        size_t after = pos_;
        skip_space(false);
        if (text_.substr(pos_, 3) == "::=") {
          pos_ = save;
          if (nested) return error("missing ')' before the next rule");
          next_rule_ = true;
          break;
        }
        pos_ = after;
        SOV_ASSIGN_OR_RETURN(uint32_t id, rule_id(name, save));
        last_start = out->size();
        out->push_back({ElemKind::kRef, id});
        SOV_RETURN_IF_ERROR(count_elems(1));
      } else if (c == '(') {
        if (depth + 1 > limits_.max_nesting) {
          return error(fmt::format("parentheses nested deeper than {}", limits_.max_nesting));
        }
        ++pos_;
        SOV_ASSIGN_OR_RETURN(uint32_t id, helper_rule(rule));
        std::vector<Elem> sub;
        skip_space(true);
        SOV_RETURN_IF_ERROR(parse_alternates(rule, &sub, depth + 1));
        skip_space(true);
        if (pos_ >= text_.size() || text_[pos_] != ')') return error("expected ')'");
        ++pos_;
        rules_[id] = std::move(sub);
        last_start = out->size();
        out->push_back({ElemKind::kRef, id});
        SOV_RETURN_IF_ERROR(count_elems(1));
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (last_start == std::string::npos) {
          return error(fmt::format("'{}' must follow something to repeat", c));
        }
        uint32_t min = 0, max = kInfinite;
        ++pos_;
        if (c == '+') {
          min = 1;
        } else if (c == '?') {
          max = 1;
        } else if (c == '{') {
          SOV_RETURN_IF_ERROR(parse_braces(&min, &max));
        }
        SOV_RETURN_IF_ERROR(repeat(rule, out, last_start, min, max));
        last_start = std::string::npos;  // x** is an error, as in llama.cpp
      } else {
        break;
      }
    }
    return Status::ok();
  }

  Status parse_braces(uint32_t* min, uint32_t* max) {
    auto number = [&](uint32_t* v) -> Status {
      skip_space(true);
      size_t start = pos_;
      uint64_t n = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        n = n * 10 + static_cast<uint64_t>(text_[pos_] - '0');
        if (n > limits_.max_repeat) {
          return error(fmt::format("repetition count over the limit of {}", limits_.max_repeat));
        }
        ++pos_;
      }
      if (pos_ == start) return error("expected a number in {m,n}");
      *v = static_cast<uint32_t>(n);
      skip_space(true);
      return Status::ok();
    };
    SOV_RETURN_IF_ERROR(number(min));
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *max = *min;
      return Status::ok();
    }
    if (pos_ >= text_.size() || text_[pos_] != ',') return error("expected ',' or '}' in {m,n}");
    ++pos_;
    skip_space(true);
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *max = kInfinite;
      return Status::ok();
    }
    SOV_RETURN_IF_ERROR(number(max));
    if (pos_ >= text_.size() || text_[pos_] != '}') return error("expected '}' in {m,n}");
    ++pos_;
    if (*max < *min) return error("in {m,n}, n must not be less than m");
    return Status::ok();
  }

  // Replaces the symbol out[start..] with its repetition min..max times (max kInfinite: no
  // bound), using right-recursive helper rules.
  Status repeat(const std::string& rule, std::vector<Elem>* out, size_t start, uint32_t min, uint32_t max) {
    std::vector<Elem> symbol(out->begin() + static_cast<std::ptrdiff_t>(start), out->end());
    out->resize(start);
    Elem one = symbol[0];
    if (symbol.size() > 1) {  // a literal of several characters: make it one rule
      SOV_ASSIGN_OR_RETURN(uint32_t id, helper_rule(rule));
      symbol.push_back({ElemKind::kEnd, 0});
      SOV_RETURN_IF_ERROR(count_elems(1));
      rules_[id] = std::move(symbol);
      one = {ElemKind::kRef, id};
    }
    SOV_RETURN_IF_ERROR(count_elems(min));
    for (uint32_t i = 0; i < min; ++i) out->push_back(one);
    if (max == kInfinite) {
      // star ::= one star | (empty)
      SOV_ASSIGN_OR_RETURN(uint32_t star, helper_rule(rule));
      rules_[star] = {one, {ElemKind::kRef, star}, {ElemKind::kAlt, 0}, {ElemKind::kEnd, 0}};
      SOV_RETURN_IF_ERROR(count_elems(5));
      out->push_back({ElemKind::kRef, star});
    } else if (max > min) {
      // opt_1 ::= one | (empty);  opt_k ::= one opt_(k-1) | (empty)
      uint32_t prev = 0;
      for (uint32_t k = 1; k <= max - min; ++k) {
        SOV_ASSIGN_OR_RETURN(uint32_t id, helper_rule(rule));
        if (k == 1) {
          rules_[id] = {one, {ElemKind::kAlt, 0}, {ElemKind::kEnd, 0}};
        } else {
          rules_[id] = {one, {ElemKind::kRef, prev}, {ElemKind::kAlt, 0}, {ElemKind::kEnd, 0}};
        }
        SOV_RETURN_IF_ERROR(count_elems(5));
        prev = id;
      }
      out->push_back({ElemKind::kRef, prev});
    }
    return Status::ok();
  }

  // One character of a literal or class, with escapes; invalid UTF-8 is an error.
  Result<uint32_t> parse_char() {
    if (pos_ >= text_.size()) return error("unexpected end of grammar");
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c == '\\') {
      if (pos_ + 1 >= text_.size()) return error("unexpected end of grammar after '\\'");
      char e = text_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case 'n': return uint32_t{'\n'};
        case 'r': return uint32_t{'\r'};
        case 't': return uint32_t{'\t'};
        case '0': return uint32_t{0};
        case '\\':
        case '"':
        case '\'':
        case '[':
        case ']':
        case '-':
        case '^':
        case '/':
        case '.':
        case '(':
        case ')':
        case '|': return static_cast<uint32_t>(e);
        case 'x':
        case 'u':
        case 'U': {
          int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int i = 0; i < digits; ++i) {
            if (pos_ >= text_.size() || hex_value(text_[pos_]) < 0) {
              return error(fmt::format("expected {} hex digits after \\{}", digits, e));
            }
            v = v * 16 + static_cast<uint32_t>(hex_value(text_[pos_]));
            ++pos_;
          }
          if (v > kMaxCodePoint) return error("code point beyond U+10FFFF");
          return v;
        }
        default: pos_ -= 1; return error(fmt::format("unknown escape '\\{}'", e));
      }
    }
    const size_t len = utf8::sequence_length(c);
    if (len == 0 || pos_ + len > text_.size() || !utf8::is_valid(text_.substr(pos_, len))) {
      return error("invalid UTF-8 in grammar");
    }
    size_t p = pos_;
    const uint32_t cp = utf8::decode(text_, &p);
    pos_ += len;
    return cp;
  }

  Result<CharClass> parse_class() {
    ++pos_;  // '['
    CharClass cls;
    if (pos_ < text_.size() && text_[pos_] == '^') {
      cls.negated = true;
      ++pos_;
    }
    while (pos_ < text_.size() && text_[pos_] != ']') {
      SOV_ASSIGN_OR_RETURN(uint32_t lo, parse_char());
      uint32_t hi = lo;
      if (pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        SOV_ASSIGN_OR_RETURN(hi, parse_char());
        if (hi < lo) return error("character range is out of order");
      }
      cls.ranges.push_back({lo, hi});
    }
    if (pos_ >= text_.size()) return error("unterminated character class");
    ++pos_;
    if (cls.ranges.empty()) return error("empty character class");
    normalize(&cls.ranges);
    return cls;
  }

  uint32_t intern_class(CharClass cls) {
    std::string key(cls.negated ? "^" : "+");
    for (const auto& [lo, hi] : cls.ranges) key += fmt::format("{:x}-{:x},", lo, hi);
    auto it = class_ids_.find(key);
    if (it != class_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(g_->classes_.size());
    g_->classes_.push_back(std::move(cls));
    class_ids_.emplace(std::move(key), id);
    return id;
  }

  Status flatten() {
    g_->alts_.resize(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r) {
      const uint32_t base = static_cast<uint32_t>(g_->elems_.size());
      g_->alts_[r].push_back(base);
      for (size_t i = 0; i < rules_[r].size(); ++i) {
        g_->elems_.push_back(rules_[r][i]);
        if (rules_[r][i].kind == ElemKind::kAlt) g_->alts_[r].push_back(base + static_cast<uint32_t>(i) + 1);
      }
    }
    rules_.clear();
    return Status::ok();
  }

  // Which rules can match the empty string.
  std::vector<bool> nullable() const {
    const auto& el = g_->elems_;
    std::vector<bool> null(g_->alts_.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < g_->alts_.size(); ++r) {
        if (null[r]) continue;
        for (uint32_t p : g_->alts_[r]) {
          bool all = true;
          for (; !is_end_of_alt(el[p]); ++p) {
            if (el[p].kind == ElemKind::kChars || !null[el[p].value]) {
              all = false;
              break;
            }
          }
          if (all) {
            null[r] = true;
            changed = true;
            break;
          }
        }
      }
    }
    return null;
  }

  // A rule that reaches itself through left-most positions (possibly after rules that can be
  // empty) would make the matcher expand forever.
  Status check_left_recursion() const {
    const auto& el = g_->elems_;
    const std::vector<bool> null = nullable();
    const size_t n = g_->alts_.size();
    std::vector<std::vector<uint32_t>> edges(n);
    for (size_t r = 0; r < n; ++r) {
      for (uint32_t p : g_->alts_[r]) {
        for (; !is_end_of_alt(el[p]); ++p) {
          if (el[p].kind == ElemKind::kChars) break;
          edges[r].push_back(el[p].value);
          if (!null[el[p].value]) break;
        }
      }
    }
    // Iterative DFS with colours; the grey path names the cycle.
    std::vector<uint8_t> colour(n, 0);
    std::vector<std::pair<uint32_t, size_t>> stack;
    for (uint32_t start = 0; start < n; ++start) {
      if (colour[start]) continue;
      stack.push_back({start, 0});
      colour[start] = 1;
      while (!stack.empty()) {
        auto& [r, i] = stack.back();
        if (i < edges[r].size()) {
          uint32_t next = edges[r][i++];
          if (colour[next] == 1) {
            std::string path;
            bool on = false;
            for (const auto& [s, _] : stack) {
              if (s == next) on = true;
              if (on) path += g_->rule_names_[s] + " -> ";
            }
            path += g_->rule_names_[next];
            return Status::invalid_argument(fmt::format(
                "grammar is left-recursive: rule \"{}\" can reach itself without consuming a character "
                "({}); rewrite it with repetition, e.g. expr ::= term (\"+\" term)*; a repetition of "
                "something that can be empty also does this",
                g_->rule_names_[next], path));
          }
          if (colour[next] == 0) {
            colour[next] = 1;
            stack.push_back({next, 0});
          }
        } else {
          colour[r] = 2;
          stack.pop_back();
        }
      }
    }
    return Status::ok();
  }

  std::string_view text_;
  Limits limits_;
  size_t pos_ = 0;
  std::shared_ptr<Grammar> g_;
  std::vector<std::vector<Elem>> rules_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::unordered_map<std::string, uint32_t> class_ids_;
  size_t n_elems_ = 0;
  uint32_t helper_counter_ = 0;
  bool next_rule_ = false;  // a sequence stopped at the start of the next rule
};

Result<std::shared_ptr<const Grammar>> Grammar::parse(std::string_view text, const Limits& limits) {
  Parser parser(text, limits);
  return parser.run();
}

std::string Grammar::to_string() const {
  std::string out;
  for (size_t r = 0; r < alts_.size(); ++r) {
    out += rule_names_[r] + " ::=";
    uint32_t p = alts_[r][0];
    for (;; ++p) {
      const Elem& e = elems_[p];
      if (e.kind == ElemKind::kEnd) break;
      if (e.kind == ElemKind::kAlt) {
        out += " |";
        continue;
      }
      if (e.kind == ElemKind::kRef) {
        out += " " + rule_names_[e.value];
        continue;
      }
      const CharClass& c = classes_[e.value];
      if (!c.negated && c.ranges.size() == 1 && c.ranges[0].first == c.ranges[0].second) {
        out += " \"" + escape_cp(c.ranges[0].first, false) + "\"";
      } else if (c.negated && c.ranges.empty()) {
        out += " .";
      } else {
        out += c.negated ? " [^" : " [";
        for (const auto& [lo, hi] : c.ranges) {
          out += escape_cp(lo, true);
          if (hi != lo) out += "-" + escape_cp(hi, true);
        }
        out += "]";
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace sov::grammar
