#include "chat/jinja_value.h"

#include <gtest/gtest.h>

#include <cmath>

#include "chat/jinja_error.h"
#include "chat/jinja_json.h"

namespace sov::chat::jinja {
namespace {

TEST(JinjaValue, PythonStrAndRepr) {
  EXPECT_EQ(to_str(Value::none()), "None");
  EXPECT_EQ(to_str(Value(true)), "True");
  EXPECT_EQ(to_str(Value()), "");
  EXPECT_EQ(to_str(Value("it's")), "it's");
  EXPECT_EQ(repr(Value("it's")), "\"it's\"");
  EXPECT_EQ(repr(Value("both ' and \"")), "'both \\' and \"'");
  EXPECT_EQ(repr(Value("tab\t\x01\xc2\xa0\xe2\x80\x8b")), "'tab\\t\\x01\\xa0\\u200b'");
  EXPECT_EQ(repr(Value("h\xc3\xa9 \xf0\x9f\x98\x80")), "'h\xc3\xa9 \xf0\x9f\x98\x80'");
  Dict d;
  d.set(Value("a"), Value::list({Value(int64_t{1}), Value::none(), Value(2.5)}));
  d.set(Value("t"), Value::tuple({Value("x")}));
  EXPECT_EQ(to_str(Value::dict(d)), "{'a': [1, None, 2.5], 't': ('x',)}");
}

TEST(JinjaValue, FloatReprMatchesPython) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(0.00001), "1e-05");
  EXPECT_EQ(float_repr(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(NAN), "nan");
  EXPECT_EQ(float_repr(-INFINITY), "-inf");
}

TEST(JinjaValue, EqualityAndOrderFollowPython) {
  EXPECT_TRUE(equals(Value(int64_t{1}), Value(1.0)));
  EXPECT_TRUE(equals(Value(true), Value(int64_t{1})));
  EXPECT_FALSE(equals(Value::tuple({Value(1)}), Value::list({Value(1)})));
  EXPECT_TRUE(equals(Value(), Value()));
  EXPECT_FALSE(equals(Value(), Value::none()));
  EXPECT_LT(compare(Value("B"), Value("a")), 0);
  EXPECT_THROW(compare(Value("a"), Value(1)), Error);
  EXPECT_TRUE(truthy(Value::generator({})));
  EXPECT_FALSE(truthy(Value::list({})));
}

TEST(JinjaValue, NestingDepthIsBounded) {
  Value v = Value::list({});
  for (int i = 1; i < kMaxValueDepth; ++i) v = Value::list({v});
  EXPECT_THROW(Value::list({v}), Error);
}

TEST(JinjaJson, DumpsLikePythonJson) {
  auto v =
      from_json(nlohmann::ordered_json::parse(R"({"b": [1, 2.0, null, true], "a": "é\n\"\u001b", "e": {}})"));
  DumpOptions o;
  EXPECT_EQ(dumps(v, o), "{\"b\": [1, 2.0, null, true], \"a\": \"\xc3\xa9\\n\\\"\\u001b\", \"e\": {}}");
  o.indent = "  ";
  o.item_separator = ",";
  EXPECT_EQ(dumps(v, o),
            "{\n  \"b\": [\n    1,\n    2.0,\n    null,\n    true\n  ],\n  \"a\": "
            "\"\xc3\xa9\\n\\\"\\u001b\",\n  \"e\": {}\n}");
  DumpOptions ascii;
  ascii.ensure_ascii = true;
  ascii.sort_keys = true;
  EXPECT_EQ(dumps(from_json(nlohmann::ordered_json::parse(R"({"z": "\ud83d\ude00", "a": 1})")), ascii),
            R"({"a": 1, "z": "\ud83d\ude00"})");
  EXPECT_THROW(dumps(Value(), o), Error);
}

TEST(JinjaJson, RejectsOverDeepInput) {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  EXPECT_THROW(from_json(nlohmann::ordered_json::parse(deep)), Error);
}

}  // namespace
}  // namespace sov::chat::jinja
