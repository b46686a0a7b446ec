#include "store/name.h"

#include <gtest/gtest.h>

namespace sov::store {
namespace {

ModelName parse_ok(std::string_view s) {
  auto n = parse_model_name(s);
  EXPECT_TRUE(n.is_ok()) << s << ": " << n.status().message();
  return n.is_ok() ? *n : ModelName{};
}

TEST(ModelName, OllamaDefaults) {
  ModelName n = parse_ok("llama3.2");
  EXPECT_EQ(n.host, "registry.ollama.ai");
  EXPECT_EQ(n.ns, "library");
  EXPECT_EQ(n.model, "llama3.2");
  EXPECT_EQ(n.tag, "latest");
  EXPECT_EQ(n.full(), "registry.ollama.ai/library/llama3.2:latest");
  EXPECT_EQ(n.display(), "llama3.2:latest");
}

TEST(ModelName, AllForms) {
  ModelName a = parse_ok("llama3.2:1b-instruct-q4_K_M");
  EXPECT_EQ(a.tag, "1b-instruct-q4_K_M");
  ModelName b = parse_ok("jmorgan/mario:v1");
  EXPECT_EQ(b.ns, "jmorgan");
  EXPECT_EQ(b.display(), "jmorgan/mario:v1");
  ModelName c = parse_ok("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
  EXPECT_EQ(c.host, "hf.co");
  EXPECT_EQ(c.ns, "bartowski");
  EXPECT_EQ(c.model, "Llama-3.2-1B-Instruct-GGUF");
  EXPECT_EQ(c.tag, "Q4_K_M");
  EXPECT_EQ(c.display(), "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
  ModelName d = parse_ok("127.0.0.1:5000/library/tiny:v2");
  EXPECT_EQ(d.host, "127.0.0.1:5000");
  EXPECT_EQ(d.model, "tiny");
  EXPECT_EQ(d.tag, "v2");
  ModelName e = parse_ok("localhost:8080/ns/m");  // host with port, no tag
  EXPECT_EQ(e.host, "localhost:8080");
  EXPECT_EQ(e.tag, "latest");
  ModelName f = parse_ok("Registry.Example.COM/ns/m");
  EXPECT_EQ(f.host, "registry.example.com");  // hosts are case-insensitive: stored lowercase
  // display() parses back to the same name.
  for (const auto& n : {a, b, c, d, e, f}) EXPECT_TRUE(parse_ok(n.display()).same_as(n));
}

TEST(ModelName, ComparesCaseInsensitively) {
  EXPECT_TRUE(parse_ok("Llama3:Latest").same_as(parse_ok("llama3")));
  EXPECT_FALSE(parse_ok("llama3:8b").same_as(parse_ok("llama3")));
}

TEST(ModelName, RefusesHostileNames) {
  const std::string hostile[] = {
      "",
      "../../etc/passwd",
      "..",
      "a/../b",
      "/etc/passwd",
      "model:../../x",
      "model:..",
      "ns/..:latest",
      "%2e%2e/%2e%2e/x",
      "model%2f..",
      "a\\..\\b",
      "a b",
      "model\n",
      std::string("mod\0el", 6),
      "x/y/z/w",  // too many parts
      "a//b",     // empty namespace
      "model:",   // empty tag
      ":tag",     // empty model
      ".hidden",  // must start with a letter or digit
      "-rf",
      "ns.with.dots/m",  // namespaces have no dots
      "host:port/ns/m",  // non-numeric port
      "h:123456/ns/m",   // port too long
      "model:tag:extra",
      "model@sha256:abc",
      std::string(600, 'a'),
      std::string(129, 'a'),
      "ns/" + std::string(129, 'b'),
      "m:" + std::string(129, 't'),
      "caf\xc3\xa9",
  };
  for (const auto& s : hostile) {
    auto n = parse_model_name(s);
    EXPECT_FALSE(n.is_ok()) << "accepted: " << s;
    if (!n) {
      EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_LT(n.status().message().size(), 220u);
    }
  }
}

TEST(ModelName, LimitsAreInclusive) {
  EXPECT_TRUE(parse_model_name(std::string(128, 'a')).is_ok());
  EXPECT_TRUE(parse_model_name("m:" + std::string(128, 't')).is_ok());
}

TEST(ModelName, PathDetection) {
  EXPECT_TRUE(looks_like_path("/models/x.gguf"));
  EXPECT_TRUE(looks_like_path("./x"));
  EXPECT_TRUE(looks_like_path("../x.gguf"));
  EXPECT_TRUE(looks_like_path("~/m.gguf"));
  EXPECT_TRUE(looks_like_path("models/x.GGUF"));
  EXPECT_FALSE(looks_like_path("x.gguf"));  // also a valid model name
  EXPECT_FALSE(looks_like_path("user/model"));
  EXPECT_FALSE(looks_like_path("llama3"));
}

}  // namespace
}  // namespace sov::store
