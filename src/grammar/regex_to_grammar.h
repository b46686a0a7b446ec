// Regular expression (JSON Schema "pattern", an ECMA-262 subset) to a GBNF expression over
// the *JSON-encoded* content of a string: the expression matches the text between the quotes
// of every JSON string whose decoded value the regex matches, using one spelling per
// character (plain when JSON allows it, else the short escape or \u00XX).
//
// Search semantics, as JSON Schema says: without ^ a match may start anywhere, without $ it
// may end anywhere (the gaps become `<any_char>*`). Supported: literals, escapes (\d \w \s
// \D \W \S \n \r \t \f \v \0 \xHH \uHHHH \\ and escaped punctuation), classes with ranges
// and negation, `.`, groups ( ) (?: ) (?<name> ), alternation, quantifiers * + ? {m} {m,}
// {m,n} (lazy forms too: same language), ^ and $ at the ends of top-level alternatives.
// Refused with a clear error, because a grammar cannot enforce them: backreferences,
// lookaround, \b \B, \p{..}, anchors elsewhere.
//
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sov::grammar {

// `any_char_rule` names the rule of one JSON-encoded character (used for unanchored ends).
Result<std::string> regex_to_gbnf(std::string_view pattern, const std::string& any_char_rule);

// GBNF for the JSON-encoded spelling of one code point out of `ranges` (sorted, disjoint,
// inclusive); "" when the set is empty. Shared with the schema converter.
std::string json_char_set_gbnf(const std::vector<std::pair<uint32_t, uint32_t>>& ranges);

// A GBNF string literal for `bytes` (valid UTF-8), quotes included.
std::string gbnf_literal(std::string_view bytes);

}  // namespace sov::grammar
