// JSON Schema to GBNF: a grammar whose sentences are JSON texts that validate against the
// schema, so that output constrained by it always parses and validates.
//
// Supported: type (one or a list), object (properties in their declared order, required,
// optional properties may be left out, additionalProperties false/true/schema: when it is
// absent and properties are given, no other properties are produced), array (items,
// prefixItems, minItems, maxItems), string (minLength, maxLength, pattern: see
// regex_to_grammar.h; format date, time, date-time, uuid; other formats are annotations),
// number, integer (minimum, maximum, exclusiveMinimum, exclusiveMaximum), boolean, null,
// enum, const, anyOf, oneOf (as anyOf: branches that overlap are not made exclusive), allOf
// (object schemas merged), $ref to "#", "#/definitions/..", "#/$defs/.." or any local JSON
// pointer (recursion allowed), boolean schemas, annotations (title, description, ...).
// Keywords that constrain values in ways a grammar cannot enforce here (not, if/then/else,
// multipleOf, uniqueItems, contains, patternProperties, minProperties, number bounds, ...)
// are refused with an error naming the keyword and its location in the schema.
//
// Output shape: no whitespace before the value or after it; inside objects and arrays at
// most one newline-plus-indent (up to max_indent spaces or tabs) or one space between
// tokens, so a model cannot spin on whitespace. Numbers have at most 16 integer and 16
// fraction digits and a 2-digit exponent.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace sov::grammar {

struct SchemaOptions {
  int max_indent = 20;  // spaces/tabs after a newline
  int max_depth = 64;   // schema nesting followed
  size_t max_rules = 20000;
};

Result<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                        const SchemaOptions& options = {});

// Any JSON object (JSON mode: Ollama's format "json", OpenAI's json_object).
std::string json_object_gbnf(const SchemaOptions& options = {});
// Any JSON value.
std::string json_value_gbnf(const SchemaOptions& options = {});

}  // namespace sov::grammar
