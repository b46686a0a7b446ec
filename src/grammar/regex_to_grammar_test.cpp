// Regex -> grammar over JSON-encoded string content, compared with std::regex on ASCII
// inputs, plus the refusals.
#include "grammar/regex_to_grammar.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "grammar/matcher.h"

namespace sov::grammar {
namespace {

// A grammar for a JSON string literal whose content follows the pattern.
std::shared_ptr<const Grammar> string_grammar(const std::string& pattern) {
  auto e = regex_to_gbnf(pattern, "char");
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  std::string text =
      "root ::= \"\\\"\" " + *e +
      " \"\\\"\"\nchar ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})\n";
  auto g = Grammar::parse(text);
  EXPECT_TRUE(g.is_ok()) << g.status().message() << "\n" << text;
  return *g;
}

bool grammar_matches(const std::shared_ptr<const Grammar>& g, const std::string& value) {
  Matcher m(g);
  const std::string encoded = nlohmann::json(value).dump();
  return m.accept(encoded) && m.is_complete();
}

TEST(RegexToGrammar, AgreesWithStdRegexOnSamples) {
  const char* patterns[] = {"^abc$",
                            "abc",
                            "^a|b$",
                            "^[a-c]+x?$",
                            "^\\d{2,3}-\\w+$",
                            "^(foo|bar)*$",
                            "^[^0-9]{1,2}$",
                            "^a.c$",
                            "^\\s*$",
                            "^x{2}y{1,}z{0,1}$",
                            "^[-+]?\\d+(\\.\\d+)?$",
                            "^\\.\\*\\\\$",
                            "^(?:ab)+?$",
                            "q$",
                            "^[\\w.-]+@[a-z]+\\.com$"};
  const char* inputs[] = {"abc",    "xabcx", "a",     "b",         "ab",      "aaax",    "12-ab",      "1-x",
                          "foobar", "fob",   "",      "x",         "yy",      "1a",      "a\nc",       "a-c",
                          "  \t",   " x ",   "xxyyy", "xxz",       "-12",     "+3.5",    "1.",         ".*\\",
                          "ababab", "abq",   "q",     "j.d@x.com", "j@x.org", "quote\"", "back\\slash"};
  for (const char* p : patterns) {
    auto g = string_grammar(p);
    const std::regex re(p, std::regex::ECMAScript);
    for (const char* in : inputs) {
      EXPECT_EQ(grammar_matches(g, in), std::regex_search(std::string(in), re))
          << p << " on \"" << in << "\"";
    }
  }
}

TEST(RegexToGrammar, EscapesCharactersThatJsonMustEscape) {
  auto g = string_grammar("^[\"\\\\\\n]+$");
  EXPECT_TRUE(grammar_matches(g, "\"\\\n"));
  EXPECT_FALSE(grammar_matches(g, "a"));
  // The grammar sees the JSON spelling: a raw quote inside is never produced.
  Matcher m(g);
  EXPECT_FALSE(m.accept("\"\"\""));
}

TEST(RegexToGrammar, NonAsciiClasses) {
  auto g = string_grammar("^[à-ÿ]+$");
  EXPECT_TRUE(grammar_matches(g, "éè"));
  EXPECT_FALSE(grammar_matches(g, "e"));
}

TEST(RegexToGrammar, RefusesWhatAGrammarCannotDo) {
  const std::pair<const char*, const char*> cases[] = {
      {"(a)\\1", "backreference"},
      {"(?=a)", "lookahead"},
      {"(?<!a)b", "lookahead"},
      {"\\bx", "word boundary"},
      {"\\p{L}", "Unicode property"},
      {"a$b", "'$'"},
      {"(^a)", "'^'"},
      {"a{2,1}", "n < m"},
      {"[b-a]", "out of order"},
      {"(a", "missing ')'"},
      {"[a", "missing ']'"},
      {"*a", "nothing to repeat"},
      {"a{1001}", "repetition count"},
      {"\\q", "unknown escape"},
  };
  for (const auto& [p, want] : cases) {
    auto r = regex_to_gbnf(p, "char");
    ASSERT_FALSE(r.is_ok()) << p;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << p << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace sov::grammar
