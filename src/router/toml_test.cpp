#include "router/toml.h"

#include <gtest/gtest.h>

namespace sov::router::toml {
namespace {

Value ok(std::string_view text) {
  auto v = parse(text);
  EXPECT_TRUE(v.is_ok()) << v.status().message() << "\n" << text;
  return v.is_ok() ? *v : Value();
}

std::string err(std::string_view text) {
  auto v = parse(text);
  EXPECT_FALSE(v.is_ok()) << text;
  return v.is_ok() ? "" : v.status().message();
}

TEST(Toml, ScalarsAndComments) {
  Value v =
      ok("# top comment\n"
         "a = \"hi # not a comment\"  # trailing\n"
         "b = 'C:\\path'\n"
         "c = -42\n"
         "d = 1_000\n"
         "e = 3.25\n"
         "f = 1e3\n"
         "g = true\n"
         "h = false\n"
         "\"quoted key\" = \"\\u00e9\\n\\t\\\"\"\n"
         "i = +0\n");
  EXPECT_EQ(v.find("a")->as_string(), "hi # not a comment");
  EXPECT_EQ(v.find("b")->as_string(), "C:\\path");
  EXPECT_EQ(v.find("c")->as_integer(), -42);
  EXPECT_EQ(v.find("d")->as_integer(), 1000);
  EXPECT_DOUBLE_EQ(v.find("e")->as_number(), 3.25);
  EXPECT_TRUE(v.find("e")->is_float());
  EXPECT_DOUBLE_EQ(v.find("f")->as_number(), 1000.0);
  EXPECT_TRUE(v.find("g")->as_bool());
  EXPECT_FALSE(v.find("h")->as_bool());
  EXPECT_EQ(v.find("quoted key")->as_string(), "\xc3\xa9\n\t\"");
  EXPECT_EQ(v.find("i")->as_integer(), 0);
  EXPECT_EQ(v.find("c")->line(), 4);
}

TEST(Toml, TablesArraysAndInlineTables) {
  Value v =
      ok("[server]\n"
         "port = 8080\n"
         "[a.b]\n"
         "x = 1\n"
         "[[backends]]\n"
         "name = \"one\"\n"
         "aliases = { smart = \"gpt-4o\", \"fast one\" = \"mini\" }\n"
         "[backends.price]\n"
         "input = 0.5\n"
         "[[backends]]\n"
         "name = \"two\"\n"
         "models = [\n"
         "  \"m1\",  # first\n"
         "  \"m2\",\n"
         "]\n"
         "nested = [[1, 2], [3]]\n"
         "empty = []\n"
         "site.owner = \"me\"\n");
  EXPECT_EQ(v.find("server")->find("port")->as_integer(), 8080);
  EXPECT_EQ(v.find("a")->find("b")->find("x")->as_integer(), 1);
  const Value* bs = v.find("backends");
  ASSERT_TRUE(bs && bs->is_array());
  ASSERT_EQ(bs->items().size(), 2u);
  EXPECT_EQ(bs->items()[0].find("name")->as_string(), "one");
  EXPECT_EQ(bs->items()[0].find("aliases")->find("fast one")->as_string(), "mini");
  EXPECT_DOUBLE_EQ(bs->items()[0].find("price")->find("input")->as_number(), 0.5);
  const Value& two = bs->items()[1];
  ASSERT_EQ(two.find("models")->items().size(), 2u);
  EXPECT_EQ(two.find("models")->items()[1].as_string(), "m2");
  EXPECT_EQ(two.find("nested")->items()[0].items()[1].as_integer(), 2);
  EXPECT_TRUE(two.find("empty")->items().empty());
  EXPECT_EQ(two.find("site")->find("owner")->as_string(), "me");
}

TEST(Toml, CrLfLineEndings) {
  Value v = ok("a = 1\r\n[t]\r\nb = \"x\"\r\n");
  EXPECT_EQ(v.find("t")->find("b")->as_string(), "x");
}

TEST(Toml, ErrorsNameTheLine) {
  EXPECT_EQ(err("a = 1\nb = \n"), "line 2: expected a value, found end of line");
  EXPECT_NE(err("a = 1\na = 2\n").find("line 2: duplicate key \"a\""), std::string::npos);
  EXPECT_NE(err("[t]\nx=1\n[t]\n").find("line 3: [t] is defined twice"), std::string::npos);
  EXPECT_NE(err("a = \"open\n").find("line 1: unterminated string"), std::string::npos);
  EXPECT_NE(err("a = 1 2\n").find("expected the end of the line"), std::string::npos);
  EXPECT_NE(err("a = [1, 2\n").find("unterminated array"), std::string::npos);
  EXPECT_NE(err("a = \"\"\"x\"\"\"\n").find("multi-line strings"), std::string::npos);
  EXPECT_NE(err("d = 1979-05-27\n").find("dates"), std::string::npos);
  EXPECT_NE(err("x = 0x1F\n").find("decimal"), std::string::npos);
  EXPECT_NE(err("x = 012\n").find("leading zero"), std::string::npos);
  EXPECT_NE(err("x = 1__0\n").find("misplaced '_'"), std::string::npos);
  EXPECT_NE(err("x = inf\n").find("inf"), std::string::npos);
  EXPECT_NE(err("x = 1.\n").find("malformed number"), std::string::npos);
  EXPECT_NE(err("x = 99999999999999999999\n").find("out of range"), std::string::npos);
  EXPECT_NE(err("x = \"\\q\"\n").find("unknown escape"), std::string::npos);
  EXPECT_NE(err("x = { a = 1,\n b = 2 }\n").find("one line"), std::string::npos);
  EXPECT_NE(err("x = { a = 1, }\n").find("trailing comma"), std::string::npos);
  EXPECT_NE(err("a = 1\n[a]\n").find("already defined"), std::string::npos);
  EXPECT_NE(err("a = [1]\n[[a]]\n").find("already defined"), std::string::npos);
  EXPECT_NE(err("x = { a = 1 }\n[x.b]\n").find("already defined"), std::string::npos);
  EXPECT_NE(err("[a.b]\n[a]\nb.c = 1\n").find("dotted key"), std::string::npos);
  EXPECT_NE(err("x = \"\xff\"\n").find("UTF-8"), std::string::npos);
  EXPECT_NE(err("[t\n").find("expected ']'"), std::string::npos);
  EXPECT_NE(err("= 1\n").find("expected a key"), std::string::npos);
}

TEST(Toml, DeepNestingIsRefused) {
  std::string deep = "a = " + std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_NE(err(deep).find("nested too deeply"), std::string::npos);
  std::string key = "k";
  for (int i = 0; i < 200; ++i) key += ".k";
  EXPECT_NE(err(key + " = 1\n").find("too many dotted parts"), std::string::npos);
  EXPECT_NE(err("[" + key + "]\n").find("too many dotted parts"), std::string::npos);
}

TEST(Toml, ImplicitTableMayBeDefinedLater) {
  Value v = ok("[a.b]\nx = 1\n[a]\ny = 2\n");
  EXPECT_EQ(v.find("a")->find("y")->as_integer(), 2);
  EXPECT_EQ(v.find("a")->find("b")->find("x")->as_integer(), 1);
}

}  // namespace
}  // namespace sov::router::toml
