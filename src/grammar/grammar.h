// Grammar: a context-free grammar in llama.cpp's GBNF syntax, compiled to a flat form that
// the Matcher (matcher.h) runs over UTF-8 text.
//
// Syntax accepted by Grammar::parse:
//   name ::= alternatives      rules; names are [A-Za-z0-9_-]+; the start rule is "root"
//   a b c                      sequence          a | b      alternatives
//   ( ... )                    grouping          x* x+ x?   repetition
//   x{m} x{m,} x{m,n}          bounded repetition
//   "text"                     literal (escapes \n \r \t \\ \" \' \[ \] \- \xHH \uHHHH \UHHHHHHHH)
//   [a-z0-9_] [^"\\]           character classes (ranges, negation)
//   .                          any code point
//   # comment                  to the end of the line
// A rule ends at the end of its line unless the line ends inside parentheses or the next
// line starts with "|". Undefined rules, duplicate rules and left recursion (a rule that can
// reach itself without consuming a character) are errors. Every error names the line and
// column. Limits bound the text size, rule count, element count, nesting and repetition
// counts, so a hostile grammar fails fast instead of exhausting memory.
//
// Compiled form: every rule is a run of elements in one array: the elements of its first
// alternative, kAlt, the next alternative, ..., kEnd. A position in the grammar is an index
// into that array. Repetitions are expanded into helper rules that recurse on the right, so
// matching them never grows the matcher's stacks.
//
// A Grammar is immutable after parse() and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sov::grammar {

struct Limits {
  size_t max_text_bytes = 4u << 20;  // grammar source
  size_t max_rules = 50000;          // including helper rules made for groups and repetitions
  size_t max_elements = 2u << 20;    // compiled elements, after expanding repetitions
  int max_nesting = 100;             // parentheses
  uint32_t max_repeat = 10000;       // m and n of x{m,n}
};

// A set of code points: sorted, non-overlapping, non-adjacent ranges (inclusive), possibly
// negated.
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;

  bool matches(uint32_t cp) const;
  // Whether some code point in [lo, hi] matches.
  bool matches_any(uint32_t lo, uint32_t hi) const;
};

enum class ElemKind : uint8_t {
  kEnd,    // end of the rule's last alternative
  kAlt,    // end of an alternative, another follows
  kRef,    // value: rule index
  kChars,  // value: index into Grammar::classes()
};

struct Elem {
  ElemKind kind;
  uint32_t value;
};

class Grammar {
 public:
  static Result<std::shared_ptr<const Grammar>> parse(std::string_view text, const Limits& limits = {});

  const std::vector<Elem>& elems() const { return elems_; }
  const std::vector<CharClass>& classes() const { return classes_; }
  size_t n_rules() const { return rule_names_.size(); }
  const std::string& rule_name(uint32_t rule) const { return rule_names_[rule]; }
  // Positions where each alternative of `rule` starts.
  const std::vector<uint32_t>& alternatives(uint32_t rule) const { return alts_[rule]; }
  uint32_t root() const { return root_; }

  // GBNF text equivalent to the compiled grammar (helper rules included), for debugging.
  std::string to_string() const;

 private:
  friend class Parser;
  std::vector<std::string> rule_names_;
  std::vector<std::vector<uint32_t>> alts_;
  std::vector<Elem> elems_;
  std::vector<CharClass> classes_;
  uint32_t root_ = 0;
};

inline bool is_end_of_alt(const Elem& e) {
  return e.kind == ElemKind::kEnd || e.kind == ElemKind::kAlt;
}

}  // namespace sov::grammar
