#include "chat/jinja_lexer.h"

#include <gtest/gtest.h>

#include "chat/jinja_error.h"

namespace sov::chat::jinja {
namespace {

// Token stream as "type:value" pieces joined by spaces (data shown with its text quoted).
std::string dump(std::string_view source, const LexerOptions& options = {}) {
  std::string out;
  for (const Token& t : tokenize(source, options)) {
    if (!out.empty()) out += " ";
    switch (t.type) {
      case TokenType::kData: out += "data'" + t.value + "'"; break;
      case TokenType::kEof: out += "eof"; break;
      case TokenType::kVariableBegin: out += "{{"; break;
      case TokenType::kVariableEnd: out += "}}"; break;
      case TokenType::kBlockBegin: out += "{%"; break;
      case TokenType::kBlockEnd: out += "%}"; break;
      case TokenType::kString: out += "str'" + t.value + "'"; break;
      case TokenType::kInteger: out += "int" + std::to_string(t.int_value); break;
      default: out += t.value;
    }
  }
  return out;
}

TEST(JinjaLexer, TrimBlocksAndLstripBlocks) {
  EXPECT_EQ(dump("a\n  {% if x %}\n  b\n"), "data'a\n' {% if x %} data'  b' eof");
  // {{ }} is not lstripped; only a newline right after %} is trimmed.
  EXPECT_EQ(dump("  {{ x }}\n"), "data'  ' {{ x }} eof");
  // "+" keeps the indentation / the newline.
  EXPECT_EQ(dump("  {%+ if x +%}\nb"), "data'  ' {% if x %} data'\nb' eof");
  // Without the options nothing is removed.
  LexerOptions plain{false, false, true};
  EXPECT_EQ(dump("  {% if x %}\nb\n", plain), "data'  ' {% if x %} data'\nb\n' eof");
}

TEST(JinjaLexer, MinusStripsAllWhitespace) {
  EXPECT_EQ(dump("a \n\t {%- if x -%} \n b"), "data'a' {% if x %} data'b' eof");
  EXPECT_EQ(dump("a  {{- x -}}  b"), "data'a' {{ x }} data'b' eof");
  EXPECT_EQ(dump("a \u3000{{- x }}"), "data'a' {{ x }} eof");  // Unicode whitespace too
}

TEST(JinjaLexer, CommentsAndRaw) {
  EXPECT_EQ(dump("a {# note #}\n  {# indented #}\nb"), "data'a ' data'b' eof");
  EXPECT_EQ(dump("{% raw %}{{ not a tag }}{% endraw %}"), "data'{{ not a tag }}' eof");
}

TEST(JinjaLexer, NewlinesAreNormalisedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(dump("a\r\nb\rc\n\n"), "data'a\nb\nc\n' eof");
}

TEST(JinjaLexer, StringLiteralsUsePythonEscapes) {
  EXPECT_EQ(dump(R"({{ 'a\n\t\'\\' "q\"" '\u00e9\x41' '\d' }})"),
            "{{ str'a\n\t'\\' str'q\"' str'\xc3\xa9"
            "A' str'\\d' }} eof");
  EXPECT_EQ(dump("{{ 'a\\\nb' }}"), "{{ str'ab' }} eof");  // backslash-newline continues the line
}

TEST(JinjaLexer, NumbersAndOperators) {
  EXPECT_EQ(dump("{{ 0x1F + 1_000 // 2 ** 3 }}"), "{{ int31 + int1000 // int2 ** int3 }} eof");
  auto tokens = tokenize("{{ 2.5e3 }}");
  EXPECT_EQ(tokens[1].type, TokenType::kFloat);
  EXPECT_DOUBLE_EQ(tokens[1].float_value, 2500.0);
}

TEST(JinjaLexer, BracesInsideExpressionsDoNotEndTheTag) {
  EXPECT_EQ(dump("{{ {'a': {'b': 1}} }}"), "{{ { str'a' : { str'b' : int1 } } }} eof");
}

TEST(JinjaLexer, ErrorsHaveLineAndColumn) {
  try {
    tokenize("ok\n  {{ a $ b }}");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.type(), "TemplateSyntaxError");
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.column(), 8);
    EXPECT_EQ(e.message(), "unexpected char '$'");
  }
}

}  // namespace
}  // namespace sov::chat::jinja
