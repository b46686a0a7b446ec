#include "store/modelfile.h"

#include <gtest/gtest.h>

#include "store/params.h"

namespace sov::store {
namespace {

TEST(Modelfile, ParsesEveryCommand) {
  auto mf = parse_modelfile(R"(# A comment
FROM llama3.2

parameter temperature 0.7
PARAMETER stop "<|eot_id|>"
PARAMETER stop <|start_header_id|>
PARAMETER num_ctx 4096
TEMPLATE """{{ if .System }}<|system|>{{ .System }}{{ end }}
{{ .Prompt }}"""
SYSTEM You are a "terse" assistant.
MESSAGE user Is the sky blue?
MESSAGE assistant "Yes, \"very\" blue."
LICENSE """MIT
second line"""
License Apache-2.0
)");
  ASSERT_TRUE(mf.is_ok()) << mf.status().message();
  EXPECT_EQ(mf->from, "llama3.2");
  ASSERT_EQ(mf->parameters.size(), 4u);
  EXPECT_EQ(mf->parameters[1], (std::pair<std::string, std::string>{"stop", "<|eot_id|>"}));
  EXPECT_EQ(mf->parameters[2].second, "<|start_header_id|>");
  EXPECT_EQ(*mf->template_text, "{{ if .System }}<|system|>{{ .System }}{{ end }}\n{{ .Prompt }}");
  EXPECT_EQ(*mf->system, "You are a \"terse\" assistant.");
  ASSERT_EQ(mf->messages.size(), 2u);
  EXPECT_EQ(mf->messages[1].content, "Yes, \"very\" blue.");
  ASSERT_EQ(mf->licenses.size(), 2u);
  EXPECT_EQ(mf->licenses[0], "MIT\nsecond line");

  auto params = params_from_text(mf->parameters);
  ASSERT_TRUE(params.is_ok());
  EXPECT_EQ(params->dump(),
            R"({"temperature":0.7,"stop":["<|eot_id|>","<|start_header_id|>"],"num_ctx":4096})");
}

TEST(Modelfile, CrlfAndTrailingBlanks) {
  auto mf = parse_modelfile("FROM ./model.gguf   \r\nSYSTEM hi\t\r\n");
  ASSERT_TRUE(mf.is_ok()) << mf.status().message();
  EXPECT_EQ(mf->from, "./model.gguf");
  EXPECT_EQ(*mf->system, "hi");
}

TEST(Modelfile, ErrorsNameTheLine) {
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"SYSTEM hi\n", "no FROM"},
      {"FROM a\nADAPTER ./lora.gguf\n", "line 2: ADAPTER is not supported"},
      {"FROM a\n\nFOO bar\n", "line 3: unknown command \"FOO\""},
      {"FROM a\nFROM b\n", "line 2: FROM given twice"},
      {"FROM a\nSYSTEM x\nSYSTEM y\n", "line 3: SYSTEM given twice"},
      {"FROM a\nPARAMETER temperature hot\n", "line 2: parameter temperature: \"hot\" is not a number"},
      {"FROM a\nPARAMETER num_ctx 1.5\n", "is not an integer"},
      {"FROM a\nPARAMETER wings 2\n", "line 2: unknown parameter \"wings\""},
      {"FROM a\nPARAMETER stop\n", "line 2: PARAMETER stop needs a value"},
      {"FROM a\nMESSAGE robot hi\n", "line 2: MESSAGE role \"robot\""},
      {"FROM a\nTEMPLATE \"\"\"never closed\n", "line 2: unterminated \"\"\" string"},
      {"FROM a\nSYSTEM \"open\n", "line 2: unterminated \" string"},
      {"FROM a\nSYSTEM \"x\" trailing\n", "line 2: unexpected text after the closing quote"},
      {"FROM\n", "line 1: FROM needs a value"},
      {"FROM \"\"\n", "FROM needs a model name"},
      {"FROM a\n\xff\n", "not valid UTF-8"},
      {std::string("FROM a\0b", 8), "NUL byte"},
  };
  for (const auto& c : cases) {
    auto mf = parse_modelfile(c.text);
    ASSERT_FALSE(mf.is_ok()) << c.text;
    EXPECT_NE(mf.status().message().find(c.expect), std::string::npos) << mf.status().message();
  }
}

TEST(Modelfile, FormatRoundTrips) {
  Modelfile mf;
  mf.from = "/path with spaces/model.gguf";
  mf.template_text = "ends with a quote\"";
  mf.system = "has \"\"\" inside and a \\ backslash";
  mf.parameters = {{"temperature", "0.25"}, {"stop", "\"quoted\""}, {"stop", " padded "}, {"seed", "42"}};
  mf.messages = {{"user", "multi\nline"}, {"assistant", ""}};
  mf.licenses = {"MIT"};
  std::string text = format_modelfile(mf);
  auto back = parse_modelfile(text);
  ASSERT_TRUE(back.is_ok()) << back.status().message() << "\n" << text;
  EXPECT_EQ(*back, mf) << text;
}

TEST(Params, TypesAndNormalisation) {
  EXPECT_EQ(*param_type("num_ctx"), ParamType::kInt);
  EXPECT_EQ(*param_type("stop"), ParamType::kStringList);
  EXPECT_FALSE(param_type("bogus").is_ok());
  auto p = normalize_params(nlohmann::ordered_json::parse(
      R"({"num_ctx": 2048.0, "temperature": "0.5", "stop": "x", "penalize_newline": "true"})"));
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  EXPECT_EQ(p->dump(), R"({"num_ctx":2048,"temperature":0.5,"stop":["x"],"penalize_newline":true})");
  EXPECT_FALSE(normalize_params(nlohmann::ordered_json::parse(R"({"num_ctx": 1.5})")).is_ok());
  EXPECT_FALSE(normalize_params(nlohmann::ordered_json::parse(R"({"stop": [1]})")).is_ok());
  EXPECT_FALSE(normalize_params(nlohmann::ordered_json::parse(R"({"nope": 1})")).is_ok());
  EXPECT_FALSE(normalize_params(nlohmann::ordered_json::parse(R"([1])")).is_ok());
  auto text = params_to_text(*p);
  ASSERT_EQ(text.size(), 4u);
  EXPECT_EQ(text[1], (std::pair<std::string, std::string>{"temperature", "0.5"}));
  EXPECT_EQ(text[2], (std::pair<std::string, std::string>{"stop", "x"}));
}

}  // namespace
}  // namespace sov::store
