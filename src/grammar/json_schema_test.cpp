// JSON Schema -> grammar: random sentences of each schema's grammar must parse and validate
// (checked by a small independent validator below); documents that break the schema must
// be refused by the grammar; unsupported keywords must be refused with a clear error.
#include "grammar/json_schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>

#include "base/utf8.h"
#include "grammar/matcher.h"
#include "grammar/token_trie.h"

namespace sov::grammar {
namespace {

using ojson = nlohmann::ordered_json;

// ---- A small validator for the subset the converter supports (independent of it). ----

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid_date(const std::string& s) {
  static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(mo == 2 && d == 29 && !leap);
}

bool valid_time(const std::string& s) {
  static const std::regex re(R"(^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)");
  return std::regex_match(s, re);
}

class Validator {
 public:
  explicit Validator(const ojson& root) : root_(root) {}

  bool valid(const ojson& v, const ojson& s) const {
    if (s.is_boolean()) return s.get<bool>();
    if (s.contains("$ref")) {
      const std::string ref = s["$ref"];
      const ojson& target = ref == "#" ? root_ : root_.at(ojson::json_pointer(ref.substr(1)));
      if (!valid(v, target)) return false;
    }
    if (s.contains("const") && v != s["const"]) return false;
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
      return false;
    if (s.contains("anyOf") &&
        std::none_of(s["anyOf"].begin(), s["anyOf"].end(), [&](const ojson& b) { return valid(v, b); }))
      return false;
    if (s.contains("oneOf") &&
        std::count_if(s["oneOf"].begin(), s["oneOf"].end(), [&](const ojson& b) { return valid(v, b); }) != 1)
      return false;
    if (s.contains("allOf") &&
        !std::all_of(s["allOf"].begin(), s["allOf"].end(), [&](const ojson& b) { return valid(v, b); }))
      return false;
    if (s.contains("type")) {
      std::vector<std::string> types;
      if (s["type"].is_array()) {
        for (const auto& t : s["type"]) types.push_back(t);
      } else {
        types.push_back(s["type"]);
      }
      if (std::none_of(types.begin(), types.end(), [&](const std::string& t) { return has_type(v, t); }))
        return false;
    }
    if (v.is_object()) {
      if (s.contains("required")) {
        for (const auto& r : s["required"])
          if (!v.contains(r.get<std::string>())) return false;
      }
      for (const auto& [k, val] : v.items()) {
        if (s.contains("properties") && s["properties"].contains(k)) {
          if (!valid(val, s["properties"][k])) return false;
        } else if (s.contains("additionalProperties") && !valid(val, s["additionalProperties"])) {
          return false;
        }
      }
    }
    if (v.is_array()) {
      size_t n_prefix = 0;
      if (s.contains("prefixItems")) {
        n_prefix = s["prefixItems"].size();
        for (size_t i = 0; i < v.size() && i < n_prefix; ++i)
          if (!valid(v[i], s["prefixItems"][i])) return false;
      }
      if (s.contains("items")) {
        for (size_t i = n_prefix; i < v.size(); ++i)
          if (!valid(v[i], s["items"])) return false;
      }
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return false;
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return false;
    }
    if (v.is_string()) {
      const std::string str = v;
      if (s.contains("minLength") && code_points(str) < s["minLength"].get<size_t>()) return false;
      if (s.contains("maxLength") && code_points(str) > s["maxLength"].get<size_t>()) return false;
      if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>())))
        return false;
      if (s.contains("format")) {
        const std::string f = s["format"];
        static const std::regex uuid(
            R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)");
        if (f == "date" && !valid_date(str)) return false;
        if (f == "time" && !valid_time(str)) return false;
        if (f == "uuid" && !std::regex_match(str, uuid)) return false;
        if (f == "date-time") {
          auto t = str.find('T');
          if (t == std::string::npos || !valid_date(str.substr(0, t)) || !valid_time(str.substr(t + 1)))
            return false;
        }
      }
    }
    if (v.is_number()) {
      const double d = v.get<double>();
      if (s.contains("minimum") && d < s["minimum"].get<double>()) return false;
      if (s.contains("maximum") && d > s["maximum"].get<double>()) return false;
      if (s.contains("exclusiveMinimum") && d <= s["exclusiveMinimum"].get<double>()) return false;
      if (s.contains("exclusiveMaximum") && d >= s["exclusiveMaximum"].get<double>()) return false;
    }
    return true;
  }

 private:
  static bool has_type(const ojson& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "integer")
      return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    return false;
  }
  const ojson& root_;
};

// ---- Random sentences of a grammar, one code point at a time. ----

const TokenTrie& char_trie() {
  static const TokenTrie trie = [] {
    std::vector<std::string> pieces;
    for (int c = 0x20; c < 0x7F; ++c) pieces.push_back(std::string(1, static_cast<char>(c)));
    for (const char* s : {"\n", "\t", "é", "ß", "😀", "中"}) pieces.push_back(s);
    return TokenTrie(pieces);
  }();
  return trie;
}

// Returns "" if no sentence was finished within the budget.
std::string sample(const std::shared_ptr<const Grammar>& g, std::mt19937& rng) {
  const TokenTrie& trie = char_trie();
  Matcher m(g);
  std::string text;
  const std::string closers = "\"}]0:";
  for (int step = 0; step < 3000; ++step) {
    if (m.is_complete() && (!m.can_continue() || rng() % 4 == 0)) return text;
    const auto& mask = m.allowed_tokens(trie);
    std::vector<uint32_t> ids;
    for (uint32_t id = 0; id < trie.n_tokens(); ++id) {
      if ((mask[id >> 6] >> (id & 63)) & 1) ids.push_back(id);
    }
    if (ids.empty()) return "";
    uint32_t pick = ids[rng() % ids.size()];
    if (step > 60 && rng() % 2 == 0) {  // steer towards the end
      for (char c : closers) {
        auto it = std::find_if(ids.begin(), ids.end(),
                               [&](uint32_t id) { return trie.piece(id) == std::string(1, c); });
        if (it != ids.end()) {
          pick = *it;
          break;
        }
      }
    }
    EXPECT_TRUE(m.accept(trie.piece(pick)));
    text += trie.piece(pick);
  }
  return m.is_complete() ? text : "";
}

std::shared_ptr<const Grammar> compile(const ojson& schema) {
  auto text = json_schema_to_gbnf(schema);
  EXPECT_TRUE(text.is_ok()) << text.status().message() << "\n" << schema.dump();
  if (!text.is_ok()) return nullptr;
  auto g = Grammar::parse(*text);
  EXPECT_TRUE(g.is_ok()) << g.status().message() << "\n" << *text;
  return g.is_ok() ? *g : nullptr;
}

bool grammar_accepts(const std::shared_ptr<const Grammar>& g, const std::string& doc) {
  Matcher m(g);
  return m.accept(doc) && m.is_complete();
}

const char* kSchemas[] = {
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"},
        "ok": {"type": "boolean"}, "none": {"type": "null"}}, "required": ["name", "age"]})",
    R"({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "string"}}})",
    R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "boolean"}})",
    R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": true, "required": ["a"]})",
    R"({"type": "object", "additionalProperties": false})",
    R"({"type": "object"})",
    R"({"type": "array", "items": {"type": "integer", "minimum": -5, "maximum": 17}, "minItems": 2, "maxItems": 4})",
    R"({"type": "array", "prefixItems": [{"type": "string", "minLength": 1, "maxLength": 3}, {"const": 42}],
        "items": {"enum": [1, "two", null, {"x": [true]}]}, "minItems": 1, "maxItems": 5})",
    R"({"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "null"}]})",
    R"({"enum": ["red", "green", "blue", "with \"quote\"", "ünïcödé"]})",
    R"({"const": {"k": [1, 2, {"z": null}]}})",
    R"({"anyOf": [{"type": "integer", "minimum": 100}, {"type": "string", "maxLength": 2}]})",
    R"({"oneOf": [{"type": "boolean"}, {"type": "null"}]})",
    R"({"type": ["string", "null"], "maxLength": 4})",
    R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                  {"properties": {"b": {"type": "string", "maxLength": 3}}, "required": ["b"]}]})",
    R"({"$defs": {"pt": {"type": "object", "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 9},
        "y": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}}, "required": ["x", "y"]}},
        "type": "array", "items": {"$ref": "#/$defs/pt"}, "maxItems": 3})",
    R"({"definitions": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
        "next": {"anyOf": [{"$ref": "#/definitions/node"}, {"type": "null"}]}}, "required": ["v", "next"]}},
        "$ref": "#/definitions/node"})",
    R"({"type": "object", "properties": {"d": {"type": "string", "format": "date"},
        "t": {"type": "string", "format": "time"}, "dt": {"type": "string", "format": "date-time"},
        "u": {"type": "string", "format": "uuid"}, "e": {"type": "string", "format": "email"}},
        "required": ["d", "t", "dt", "u"]})",
    R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3,4}$"})",
    R"({"type": "string", "pattern": "^(ab|c+)?x[^a-z\"]*$"})",
    R"({"type": "string", "pattern": "[a-z]{2}"})",
    R"({"type": "integer", "minimum": 12345, "maximum": 987654})",
    R"({"type": "integer", "minimum": -1234, "maximum": -7})",
    R"({"type": "integer", "exclusiveMinimum": 0})",
    R"({"type": "integer", "maximum": 5})",
    R"({"type": "string", "minLength": 2, "maxLength": 5})",
    R"({"type": "object", "properties": {"x": {"type": "string"}, "y": {}}, "required": ["y"]})",
    R"({"properties": {"a b": {"type": "integer"}, "\u00e9": {"type": "integer"}, "q\"": {"type": "integer"}},
        "additionalProperties": {"type": "integer"}})",
    R"(true)",
    R"({"type": "number"})",
};

class SchemaSamples : public ::testing::TestWithParam<const char*> {};

TEST_P(SchemaSamples, RandomSentencesParseAndValidate) {
  const ojson schema = ojson::parse(GetParam());
  auto g = compile(schema);
  ASSERT_TRUE(g);
  Validator validator(schema);
  std::mt19937 rng(1234);
  int finished = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string text = sample(g, rng);
    if (text.empty()) continue;
    ++finished;
    auto doc = ojson::parse(text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << "does not parse: " << text;
    EXPECT_TRUE(validator.valid(doc, schema)) << "does not validate: " << text;
  }
  EXPECT_GE(finished, 30);
}

INSTANTIATE_TEST_SUITE_P(Schemas, SchemaSamples, ::testing::ValuesIn(kSchemas));

struct Rejection {
  const char* schema;
  const char* doc;
};

TEST(SchemaGrammar, RefusesDocumentsThatBreakTheSchema) {
  const Rejection cases[] = {
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})", R"({})"},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})", R"({"a": 1.5})"},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}})", R"({"b": 1})"},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}})",
       R"({"a": 1, "a": "x"})"},
      {R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}})",
       R"({"b": 1, "a": 2})"},  // declared order
      {R"({"type": "array", "items": {"type": "integer"}, "minItems": 2})", R"([1])"},
      {R"({"type": "array", "items": {"type": "integer"}, "maxItems": 2})", R"([1, 2, 3])"},
      {R"({"enum": ["a", "b"]})", R"("c")"},
      {R"({"type": "string", "maxLength": 3})", R"("abcd")"},
      {R"({"type": "string", "minLength": 2})", R"("é")"},
      {R"({"type": "string", "format": "date"})", R"("2024-02-30")"},
      {R"({"type": "string", "format": "uuid"})", R"("123")"},
      {R"({"type": "string", "pattern": "^a+$"})", R"("ab")"},
      {R"({"type": "integer", "minimum": 10, "maximum": 20})", R"(21)"},
      {R"({"type": "integer", "minimum": 10, "maximum": 20})", R"(9)"},
      {R"({"type": "integer", "minimum": -5})", R"(-6)"},
      {R"({"type": "integer"})", R"(012)"},
      {R"({"type": "number"})", R"(1.)"},
      {R"({"type": "string"})", "\"tab\there\""},
      {R"({"type": "string"})", R"("\ud800")"},
      {R"({"type": "boolean"})", R"(True)"},
      {R"({"type": "object"})", R"([])"},
  };
  for (const auto& c : cases) {
    auto g = compile(ojson::parse(c.schema));
    ASSERT_TRUE(g);
    EXPECT_FALSE(grammar_accepts(g, c.doc)) << c.schema << " accepted " << c.doc;
  }
}

TEST(SchemaGrammar, AcceptsFormattedDocuments) {
  auto g = compile(ojson::parse(R"({"type": "object", "properties": {"a": {"type": "array", "items":
      {"type": "integer"}}, "b": {"type": "string"}}, "required": ["a"]})"));
  ASSERT_TRUE(g);
  EXPECT_TRUE(grammar_accepts(g, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"x\\n\\u00e9\"\n}"));
  EXPECT_TRUE(grammar_accepts(g, R"({"a":[]})"));
  EXPECT_FALSE(grammar_accepts(g, " {\"a\": []}"));  // nothing before the value
  // Whitespace is capped: a newline and at most 20 spaces between tokens.
  EXPECT_TRUE(grammar_accepts(g, "{\n" + std::string(20, ' ') + "\"a\": []}"));
  EXPECT_FALSE(grammar_accepts(g, "{\n" + std::string(21, ' ') + "\"a\": []}"));
  EXPECT_FALSE(grammar_accepts(g, "{\n\n\"a\": []}"));
}

TEST(SchemaGrammar, JsonModeAcceptsAnyObjectOnly) {
  auto g = Grammar::parse(json_object_gbnf());
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_TRUE(grammar_accepts(*g, R"({"a": [1, -2.5e3, true, null, {"b": "c\"d"}], "e": {}})"));
  EXPECT_FALSE(grammar_accepts(*g, R"([1])"));
  EXPECT_FALSE(grammar_accepts(*g, R"({"a": 1,})"));
  EXPECT_FALSE(grammar_accepts(*g, R"({'a': 1})"));
  auto v = Grammar::parse(json_value_gbnf());
  ASSERT_TRUE(v.is_ok());
  EXPECT_TRUE(grammar_accepts(*v, R"([1, "x"])"));
  EXPECT_TRUE(grammar_accepts(*v, R"("x")"));
}

TEST(SchemaGrammar, RefusesWhatItCannotEnforce) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"not": {"type": "string"}})", "\"not\""},
      {R"({"type": "integer", "multipleOf": 3})", "multipleOf"},
      {R"({"type": "array", "uniqueItems": true})", "uniqueItems"},
      {R"({"type": "number", "minimum": 0.5})", "minimum"},
      {R"({"type": "string", "pattern": "^(a)\\1$"})", "backreference"},
      {R"({"type": "string", "pattern": "^(?=a)a$"})", "lookahead"},
      {R"({"type": "string", "pattern": "\\bword"})", "word boundary"},
      {R"({"type": "string", "pattern": "a^b"})", "'^'"},
      {R"({"type": "string", "pattern": "^a$", "maxLength": 3})", "pattern together"},
      {R"({"$ref": "http://example.com/s.json"})", "not local"},
      {R"({"$ref": "#/$defs/missing"})", "points to nothing"},
      {R"({"type": "strin"})", "unknown type"},
      {R"({"type": "integer", "minimum": 5, "maximum": 1})", "no integer"},
      {R"({"type": "array", "maxItems": 1000000})", "maxItems"},
      {R"({"allOf": [{"type": "string"}, {"type": "integer"}]})", "allOf"},
      {R"(false)", "matches nothing"},
      {R"({"properties": {"a": {"patternProperties": {}}}})", "/properties/a"},
  };
  for (const auto& [schema, want] : cases) {
    auto r = json_schema_to_gbnf(ojson::parse(schema));
    ASSERT_FALSE(r.is_ok()) << schema;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  }
}

TEST(SchemaGrammar, LargeEnum) {
  ojson values = ojson::array();
  for (int i = 0; i < 5000; ++i) values.push_back("v" + std::to_string(i * 7919 % 100003));
  const ojson schema = {{"type", "object"}, {"properties", {{"k", {{"enum", values}}}}}, {"required", {"k"}}};
  auto g = compile(schema);
  ASSERT_TRUE(g);
  Validator validator(schema);
  std::mt19937 rng(5);
  for (int i = 0; i < 10; ++i) {
    const std::string text = sample(g, rng);
    ASSERT_FALSE(text.empty());
    auto doc = ojson::parse(text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << text;
    EXPECT_TRUE(validator.valid(doc, schema)) << text;
  }
  EXPECT_FALSE(grammar_accepts(g, R"({"k": "v100004"})"));
}

TEST(SchemaGrammar, HostileSchemasFailFastOrStayBounded) {
  // Deep nesting is refused, not followed until the stack overflows.
  ojson deep = {{"type", "integer"}};
  for (int i = 0; i < 500; ++i) deep = {{"type", "array"}, {"items", deep}};
  auto r = json_schema_to_gbnf(deep);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("deeper"), std::string::npos);
  // A self-reference with nothing consumed first is a left-recursive grammar: refused.
  auto self = json_schema_to_gbnf(ojson::parse(R"({"anyOf": [{"$ref": "#"}, {"type": "null"}]})"));
  ASSERT_TRUE(self.is_ok());
  EXPECT_FALSE(Grammar::parse(*self).is_ok());
}

}  // namespace
}  // namespace sov::grammar
