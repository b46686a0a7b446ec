// GBNF parser: syntax, errors with positions, limits, left recursion; and string-level
// matching through the Matcher.
#include "grammar/grammar.h"

#include <gtest/gtest.h>

#include "grammar/matcher.h"

namespace sov::grammar {
namespace {

std::shared_ptr<const Grammar> parse_ok(std::string_view text) {
  auto g = Grammar::parse(text);
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  return g.is_ok() ? *g : nullptr;
}

std::string parse_error(std::string_view text, const Limits& limits = {}) {
  auto g = Grammar::parse(text, limits);
  EXPECT_FALSE(g.is_ok()) << "parsed: " << text;
  return g.is_ok() ? "" : g.status().message();
}

// Whole-string match: accepted byte by byte and complete at the end.
bool matches(const std::shared_ptr<const Grammar>& g, std::string_view s) {
  Matcher m(g);
  return m.accept(s) && m.is_complete();
}

TEST(GrammarParse, LiteralsAlternativesAndSequences) {
  auto g = parse_ok(R"g(root ::= "a" "b" | "cd" | other
other ::= "x")g");
  EXPECT_TRUE(matches(g, "ab"));
  EXPECT_TRUE(matches(g, "cd"));
  EXPECT_TRUE(matches(g, "x"));
  EXPECT_FALSE(matches(g, "a"));
  EXPECT_FALSE(matches(g, "abx"));
  EXPECT_FALSE(matches(g, ""));
}

TEST(GrammarParse, Repetitions) {
  auto g = parse_ok(R"g(root ::= "a"* "b"+ "c"? "d"{2} "e"{1,3} "f"{2,})g");
  EXPECT_TRUE(matches(g, "bddeff"));
  EXPECT_TRUE(matches(g, "aaabbbcddeeefff"));
  EXPECT_FALSE(matches(g, "ddeff"));      // b+ needs one
  EXPECT_FALSE(matches(g, "bdeff"));      // d{2}
  EXPECT_FALSE(matches(g, "bddeeeeff"));  // e{1,3}
  EXPECT_FALSE(matches(g, "bddef"));      // f{2,}
  EXPECT_FALSE(matches(g, "bccddeff"));   // c?
}

TEST(GrammarParse, RepetitionOfMultiCharacterLiteralAndGroup) {
  auto g = parse_ok(R"g(root ::= "ab"{2} ("x" | "yz")*)g");
  EXPECT_TRUE(matches(g, "abab"));
  EXPECT_TRUE(matches(g, "ababxyzx"));
  EXPECT_FALSE(matches(g, "ab"));
  EXPECT_FALSE(matches(g, "ababy"));
}

TEST(GrammarParse, CharClassesAndEscapes) {
  auto g = parse_ok(R"g(root ::= [a-c0-9_] [^"\\\n] "\x41\u00e9\U0001F600" . "\"\t\\")g");
  EXPECT_TRUE(matches(g, "a!Aé😀z\"\t\\"));
  EXPECT_TRUE(matches(g, "9ßAé😀€\"\t\\"));
  EXPECT_FALSE(matches(g, "d!Aé😀z\"\t\\"));   // not in [a-c0-9_]
  EXPECT_FALSE(matches(g, "a\"Aé😀z\"\t\\"));  // excluded by [^"...]
  EXPECT_FALSE(matches(g, "a\nAé😀z\"\t\\"));
}

TEST(GrammarParse, MultiLineRulesCommentsAndParentheses) {
  auto g = parse_ok(R"g(# a comment
root ::= (
    "a"   # inside
  | "b"
) tail
  | "c"
tail ::= "!"  # end
)g");
  EXPECT_TRUE(matches(g, "a!"));
  EXPECT_TRUE(matches(g, "b!"));
  EXPECT_TRUE(matches(g, "c"));
  EXPECT_FALSE(matches(g, "c!"));
}

TEST(GrammarParse, RecursionIsFineWhenNotOnTheLeft) {
  auto g = parse_ok(R"g(root ::= "(" root ")" | "x")g");
  EXPECT_TRUE(matches(g, "x"));
  EXPECT_TRUE(matches(g, "(((x)))"));
  EXPECT_FALSE(matches(g, "((x)"));
}

TEST(GrammarParse, ErrorsNameLineAndColumn) {
  EXPECT_NE(parse_error("root ::= \"a\"\nfoo ::= bar").find("line 2, column 9: undefined rule \"bar\""),
            std::string::npos);
  EXPECT_NE(parse_error("root ::= \"abc").find("line 1, column 10: unterminated string"), std::string::npos);
  EXPECT_NE(parse_error("root ::= [z-a]").find("out of order"), std::string::npos);
  EXPECT_NE(parse_error("root ::= ( \"a\"").find("expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("root = \"a\"").find("expected \"::=\""), std::string::npos);
  EXPECT_NE(parse_error("root ::= *").find("must follow something"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"{3,1}").find("less than m"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"\\q\"").find("unknown escape"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"\nroot ::= \"b\"").find("defined twice"), std::string::npos);
  EXPECT_NE(parse_error("start ::= \"a\"").find("no rule named \"root\""), std::string::npos);
  EXPECT_NE(parse_error("root ::= []").find("empty character class"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"\xff\"").find("invalid UTF-8"), std::string::npos);
}

TEST(GrammarParse, LeftRecursionIsRejected) {
  EXPECT_NE(parse_error("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  std::string e = parse_error("root ::= a\na ::= b \"x\"\nb ::= opt a\nopt ::= \"y\"?");
  EXPECT_NE(e.find("left-recursive"), std::string::npos);
  EXPECT_NE(e.find("->"), std::string::npos);  // names the cycle
  // A repetition of something that can be empty loops the same way.
  EXPECT_NE(parse_error("root ::= (\"a\"?)*").find("left-recursive"), std::string::npos);
}

TEST(GrammarParse, LimitsStopHostileGrammars) {
  Limits small;
  small.max_rules = 10;
  EXPECT_NE(parse_error("root ::= \"a\"{0,50}", small).find("too many rules"), std::string::npos);
  EXPECT_NE(parse_error("root ::= \"a\"{0,99999}").find("over the limit"), std::string::npos);
  // Nested repetitions of groups stay small (each group is one rule); counts add up, and a
  // budget bounds the total.
  auto nested = Grammar::parse("root ::= ((((\"a\"{10000}){10000}){10000}){10000})");
  ASSERT_TRUE(nested.is_ok());
  EXPECT_LT((*nested)->elems().size(), 50000u);
  Limits budget;
  budget.max_elements = 30000;
  EXPECT_NE(parse_error("root ::= ((((\"a\"{10000}){10000}){10000}){10000})", budget).find("too large"),
            std::string::npos);
  std::string deep = "root ::= " + std::string(200, '(') + "\"a\"" + std::string(200, ')');
  EXPECT_NE(parse_error(deep).find("nested deeper"), std::string::npos);
  Limits tiny;
  tiny.max_text_bytes = 5;
  EXPECT_NE(parse_error("root ::= \"a\"", tiny).find("bytes"), std::string::npos);
}

TEST(GrammarParse, ToStringRoundTrips) {
  auto g = parse_ok(R"g(root ::= "a" [^x-z] . ("b" | "c")* item{1,2}
item ::= "\n\"")g");
  auto again = Grammar::parse(g->to_string());
  ASSERT_TRUE(again.is_ok()) << again.status().message() << "\n" << g->to_string();
  for (std::string s : {"a!?", "a!?bcb\n\"", "ay?\n\"\n\"", "a!?\n\"\n\"\n\""}) {
    EXPECT_EQ(matches(g, s), matches(*again, s)) << s;
  }
}

TEST(Matcher, TracksPrefixesAndCompletion) {
  auto g = parse_ok(R"g(root ::= "ab" | "abc")g");
  Matcher m(g);
  EXPECT_FALSE(m.is_complete());
  EXPECT_TRUE(m.accept("a"));
  EXPECT_FALSE(m.is_complete());
  EXPECT_FALSE(m.accept("x"));  // refused, state unchanged
  EXPECT_TRUE(m.accept("b"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_TRUE(m.can_continue());
  EXPECT_TRUE(m.accept("c"));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.can_continue());
  m.reset();
  EXPECT_TRUE(m.can_accept("abc"));
  EXPECT_FALSE(m.can_accept("abd"));
}

TEST(Matcher, CodePointsSplitAcrossTokens) {
  auto g = parse_ok(R"g(root ::= [α-γ]+)g");
  Matcher m(g);
  const std::string beta = "β";  // 2 bytes
  EXPECT_TRUE(m.accept(beta.substr(0, 1)));
  EXPECT_FALSE(m.is_complete());  // inside a code point
  EXPECT_TRUE(m.accept(beta.substr(1)));
  EXPECT_TRUE(m.is_complete());
  EXPECT_FALSE(m.can_accept("δ"));
  EXPECT_TRUE(m.can_accept("\xce"));       // could still become α-γ
  EXPECT_FALSE(m.can_accept("\xcf"));      // no code point in [α-γ] starts with 0xCF
  EXPECT_FALSE(m.can_accept("\x80"));      // a stray continuation byte
  EXPECT_FALSE(m.can_accept("\xc0\xb1"));  // overlong
}

TEST(Matcher, RightRecursionDoesNotGrowStacks) {
  auto g = parse_ok(R"g(root ::= "x"* "y")g");
  Matcher m(g);
  size_t stacks = 0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(m.accept("x"));
    if (i == 0) stacks = m.n_stacks();
    ASSERT_EQ(m.n_stacks(), stacks);
  }
  EXPECT_TRUE(m.accept("y"));
  EXPECT_TRUE(m.is_complete());
}

TEST(Matcher, DepthLimitRefusesInsteadOfGrowing) {
  auto g = parse_ok(R"g(root ::= "(" root ")" | "x")g");
  MatcherLimits limits;
  limits.max_depth = 20;
  Matcher m(g, limits);
  int accepted = 0;
  while (accepted < 100 && m.accept("(")) ++accepted;
  EXPECT_LT(accepted, 100);
  EXPECT_GT(accepted, 5);
  EXPECT_TRUE(m.overflowed());
}

TEST(Matcher, AmbiguousGrammarStaysBounded) {
  // Exponentially many parses of "aaaa..." collapse into few distinct stacks.
  auto g = parse_ok(R"g(root ::= ("a" | "a" "a" | "aa")* "b")g");
  Matcher m(g);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(m.accept("a"));
  EXPECT_LT(m.n_stacks(), 20u);
  EXPECT_TRUE(m.accept("b"));
  EXPECT_TRUE(m.is_complete());
}

}  // namespace
}  // namespace sov::grammar
