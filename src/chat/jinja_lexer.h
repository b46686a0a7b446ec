// Jinja2 lexer: template text -> tokens, with Jinja2's exact whitespace rules.
//
// Newlines are normalised to "\n" and one trailing newline is dropped (keep_trailing_newline
// off). With trim_blocks the first newline after a block or comment tag is removed; with
// lstrip_blocks spaces and tabs before a block/comment tag at the start of a line are removed
// (not before {{ }}); "-" on a tag side strips all whitespace on that side, "+" disables the
// trim/lstrip. {% raw %} content becomes plain data. Comments are dropped.
// Pure function; throws jinja::Error (TemplateSyntaxError) with line and column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sov::chat::jinja {

enum class TokenType {
  kData,
  kVariableBegin,
  kVariableEnd,
  kBlockBegin,
  kBlockEnd,
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,
  kEof,
};

struct Token {
  TokenType type;
  std::string value;  // data text, name, decoded string literal, operator text
  int line = 0;
  int column = 0;
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options = {});

const char* token_type_name(TokenType type);

}  // namespace sov::chat::jinja
