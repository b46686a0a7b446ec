#include "server/prompt.h"

#include <gtest/gtest.h>

#include "base/testdata.h"
#include "server/http_util.h"

namespace sov::server {
namespace {

std::shared_ptr<Runner> runner_for(const std::string& dir) {
  auto r = std::make_shared<Runner>();
  auto model = engine::Model::load(dir + "/models/stories260K.gguf");
  EXPECT_TRUE(model.is_ok());
  r->model = *model;
  r->entry.name = "stories260K:latest";
  auto tok = tokenizer::Tokenizer::from_gguf(r->model->file());
  EXPECT_TRUE(tok.is_ok());
  r->tokenizer = std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok).value());
  return r;
}

TEST(GoTemplate, SupportedSubset) {
  EXPECT_EQ(*apply_go_template("{{ .System }}\nQ: {{ .Prompt }}\nA:{{ .Response }}", "Be brief.", "Why?"),
            "Be brief.\nQ: Why?\nA:");
  EXPECT_EQ(*apply_go_template("X {{- .Prompt -}}  Y", "", "p"), "XpY");
  EXPECT_EQ(*apply_go_template("no actions", "", "p"), "no actions");
  auto bad = apply_go_template("{{ if .System }}{{ .System }}{{ end }}", "", "p");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(apply_go_template("{{ .Prompt", "", "p").is_ok());
}

TEST(TruncatePrompt, KeepsBosAndTheEnd) {
  std::vector<int32_t> t = {1, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  auto out = truncate_prompt(t, 8, 2, 1);
  EXPECT_EQ(out, (std::vector<int32_t>{1, 14, 15, 16, 17, 18}));
  EXPECT_EQ(truncate_prompt(t, 100, 2, 1), t);
  auto no_bos = truncate_prompt({5, 6, 7, 8}, 4, 2, 1);
  EXPECT_EQ(no_bos, (std::vector<int32_t>{7, 8}));
}

TEST(Messages, Validation) {
  EXPECT_TRUE(
      validate_messages(
          ojson::parse(
              R"([{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"}]},
      {"role":"assistant","content":null,"tool_calls":[]},{"role":"tool","content":"42"}])"))
          .is_ok());
  for (const char* bad :
       {R"([1])", R"([{"content":"x"}])", R"([{"role":"wizard","content":"x"}])",
        R"([{"role":"user","content":5}])", R"([{"role":"user","content":"x","images":["aGk="]}])",
        R"([{"role":"assistant","tool_calls":{}}])"}) {
    EXPECT_FALSE(validate_messages(ojson::parse(bad)).is_ok()) << bad;
  }
  EXPECT_EQ(*tool_names(ojson::parse(R"([{"type":"function","function":{"name":"f"}}])")),
            std::vector<std::string>{"f"});
  EXPECT_FALSE(tool_names(ojson::parse(R"([{"type":"function"}])")).is_ok());
}

TEST(ChatPrompt, DefaultTemplateForAModelWithout) {
  SOV_REQUIRE_TESTDATA(dir);
  auto r = runner_for(dir);
  ASSERT_FALSE(r->chat_template.has_value());
  auto p = build_chat_prompt(*r, ojson::parse(R"([{"role":"system","content":"Be kind."},
      {"role":"user","content":[{"type":"text","text":"Hi"}]}])"),
                             nullptr);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  const std::string want =
      "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(p->tokens, tokenize_prompt(*r, want));
  EXPECT_EQ(p->tokens[0], r->tokenizer->bos());
  EXPECT_EQ(p->stops, (std::vector<std::string>{"<|im_end|>", "<|im_start|>"}));

  // Tools are announced and earlier calls rendered; string arguments become objects.
  auto t = build_chat_prompt(*r, ojson::parse(R"([{"role":"user","content":"Weather?"},
      {"role":"assistant","content":"","tool_calls":[{"function":{"name":"w","arguments":"{\"c\":\"Oslo\"}"}}]},
      {"role":"tool","content":"sunny"}])"),
                             ojson::parse(R"([{"type":"function","function":{"name":"w"}}])"));
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  std::string text = r->tokenizer->decode(t->tokens, true);
  const size_t call = text.rfind("<tool_call>{");
  ASSERT_NE(call, std::string::npos) << text;
  EXPECT_LT(call, text.find("Oslo"));
  EXPECT_LT(text.find("Oslo"), text.rfind("}</tool_call>"));
  EXPECT_NE(text.find("You can call these tools"), std::string::npos);
}

TEST(GeneratePrompt, PlainRawContextAndFim) {
  SOV_REQUIRE_TESTDATA(dir);
  auto r = runner_for(dir);
  GeneratePromptRequest g;
  g.prompt = "Once upon a time";
  auto p = build_generate_prompt(*r, g);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->tokens, r->tokenizer->encode("Once upon a time", true, false));
  g.system = "Sys";
  EXPECT_EQ(build_generate_prompt(*r, g)->tokens,
            r->tokenizer->encode("Sys\n\nOnce upon a time", true, false));
  g.context = {1, 400};
  auto c = build_generate_prompt(*r, g);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->tokens[0], 1);
  EXPECT_EQ(c->tokens[1], 400);
  EXPECT_NE(c->tokens[2], r->tokenizer->bos());  // no second BOS after the context
  g = {};
  g.prompt = "x";
  g.has_template = true;
  g.go_template = "{{ if .Prompt }}";
  EXPECT_EQ(build_generate_prompt(*r, g).status().code(), ErrorCode::kUnsupported);
  g = {};
  g.prompt = "def f(";
  g.suffix = "return x";
  auto fim = build_generate_prompt(*r, g);
  ASSERT_FALSE(fim.is_ok());
  EXPECT_NE(fim.status().message().find("does not support insert"), std::string::npos);
}

}  // namespace
}  // namespace sov::server
