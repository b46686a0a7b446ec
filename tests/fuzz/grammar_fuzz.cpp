// libFuzzer target: GBNF parsing, JSON Schema and regex conversion, and matching.
// Input: one mode byte, then a specification and, after the first NUL byte, text to match.
//   mode % 3 == 0: the specification is GBNF
//   mode % 3 == 1: it is a JSON schema (converted to GBNF)
//   mode % 3 == 2: it is a regex pattern (JSON Schema "pattern")
// Any input must end in a result or an error Status: no crash, hang, leak or unbounded growth.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "grammar/matcher.h"
#include "grammar/regex_to_grammar.h"
#include "grammar/token_trie.h"

namespace {

const sov::grammar::TokenTrie& trie() {
  static const sov::grammar::TokenTrie kTrie({"{",    "}",    "\"", "a",     "ab", " ",    "\n",   ":",
                                              ",",    "[",    "]",  "0",     "12", "true", "null", "é",
                                              "\xc3", "\xa9", "\\", "\\u00", "-",  "x\"}"});
  return kTrie;
}

void exercise(std::string_view gbnf, std::string_view text) {
  sov::grammar::Limits limits;
  limits.max_elements = 200000;
  limits.max_rules = 20000;
  auto g = sov::grammar::Grammar::parse(gbnf, limits);
  if (!g.is_ok()) return;
  sov::grammar::MatcherLimits ml;
  ml.max_work = 200000;
  ml.max_states = 5000;
  sov::grammar::Matcher m(*g, ml);
  m.allowed_tokens(trie());
  // Feed the text in small pieces, computing masks along the way.
  for (size_t i = 0; i < text.size(); i += 3) {
    if (!m.accept(text.substr(i, 3))) break;
    if (i % 9 == 0) m.allowed_tokens(trie());
    (void)m.is_complete();
  }
  (void)g.value()->to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  std::string_view spec = rest.substr(0, nul);
  std::string_view text = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  if (mode == 0) {
    exercise(spec, text);
  } else if (mode == 1) {
    auto schema = nlohmann::ordered_json::parse(spec, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) return 0;
    auto gbnf = sov::grammar::json_schema_to_gbnf(schema);
    if (gbnf.is_ok()) exercise(*gbnf, text);
  } else {
    auto expr = sov::grammar::regex_to_gbnf(spec, "char");
    if (expr.is_ok()) {
      exercise(
          "root ::= \"\\\"\" " + *expr + " \"\\\"\"\nchar ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" [\"\\\\nt]\n",
          text);
    }
  }
  return 0;
}
