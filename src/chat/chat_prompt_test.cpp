#include "chat/chat_prompt.h"

#include <gtest/gtest.h>

#include "base/testdata.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;

ojson turns(int n) {
  ojson m = ojson::array();
  m.push_back({{"role", "system"}, {"content", "Be brief."}});
  for (int i = 0; i < n; ++i) {
    m.push_back({{"role", "user"}, {"content", "question " + std::to_string(i)}});
    m.push_back({{"role", "assistant"}, {"content", "answer " + std::to_string(i)}});
  }
  m.push_back({{"role", "user"}, {"content", "last question"}});
  return m;
}

// A whitespace "tokenizer": one token per word, for exact budgets.
std::vector<int32_t> words(const std::string& text) {
  std::vector<int32_t> out;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n';
    if (!space && !in_word) out.push_back(static_cast<int32_t>(out.size()));
    in_word = !space;
  }
  return out;
}

TEST(ChatPrompt, DefaultIsChatMLWithStops) {
  ChatPrompt p = ChatPrompt::create("", "<s>", "</s>");
  EXPECT_FALSE(p.uses_model_template());
  EXPECT_TRUE(p.warning().empty());
  EXPECT_EQ(p.stops(), (std::vector<std::string>{"<|im_end|>", "<|im_start|>"}));
  auto text =
      p.render(ojson::array({{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "Hi"}}}));
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  EXPECT_EQ(*text,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto no_gen = p.render(ojson::array({{{"role", "user"}, {"content", "Hi"}}}), false);
  EXPECT_EQ(*no_gen, "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatPrompt, UsesTheModelsTemplate) {
  const std::string tmpl =
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}";
  ChatPrompt p = ChatPrompt::create(tmpl, "<s>", "</s>");
  EXPECT_TRUE(p.uses_model_template());
  EXPECT_TRUE(p.stops().empty());
  EXPECT_EQ(p.source(), tmpl);
  EXPECT_EQ(*p.render(ojson::array({{{"role", "user"}, {"content", "Hi"}}})), "<s>[user] Hi</s>[assistant]");
  // A template that raises is an error, not a crash.
  ChatPrompt raising = ChatPrompt::create("{{ raise_exception('roles must alternate') }}", "", "");
  auto r = raising.render(ojson::array());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("roles must alternate"), std::string::npos);
}

TEST(ChatPrompt, BrokenTemplateFallsBackToChatML) {
  ChatPrompt p = ChatPrompt::create("{% for m in messages %}{{ m.content }", "", "");
  EXPECT_FALSE(p.uses_model_template());
  EXPECT_NE(p.warning().find("does not parse"), std::string::npos);
  EXPECT_EQ(p.source(), kChatMLTemplate);
  EXPECT_TRUE(p.render(turns(0)).is_ok());
}

TEST(FitChatPrompt, DropsOldestTurnsKeepsSystemAndLast) {
  ChatPrompt p = ChatPrompt::create("", "", "");
  const ojson all = turns(5);
  auto whole = fit_chat_prompt(p, all, words, 10000);
  ASSERT_TRUE(whole.is_ok());
  EXPECT_EQ(whole->n_dropped, 0u);
  EXPECT_EQ(whole->text, *p.render(all));
  EXPECT_EQ(whole->tokens, words(whole->text));

  // The budget of the system message, the last two turns and the last question.
  ojson expect = ojson::array({all[0], all[7], all[8], all[9], all[10], all[11]});
  const size_t budget = words(*p.render(expect)).size();
  auto fitted = fit_chat_prompt(p, all, words, budget);
  ASSERT_TRUE(fitted.is_ok()) << fitted.status().message();
  EXPECT_EQ(fitted->n_dropped, 6u);  // three user/assistant pairs
  EXPECT_EQ(fitted->text, *p.render(expect));
  EXPECT_LE(fitted->tokens.size(), budget);
  EXPECT_NE(fitted->text.find("Be brief."), std::string::npos);
  EXPECT_NE(fitted->text.find("last question"), std::string::npos);
  EXPECT_EQ(fitted->text.find("question 2"), std::string::npos);

  // One token less than the system + last message alone: refused with advice.
  ojson minimal = ojson::array({all[0], all.back()});
  auto tight = fit_chat_prompt(p, all, words, words(*p.render(minimal)).size() - 1);
  ASSERT_FALSE(tight.is_ok());
  EXPECT_EQ(tight.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(tight.status().message().find("num_ctx"), std::string::npos);
}

TEST(FitChatPrompt, WithARealTokenizer) {
  SOV_REQUIRE_TESTDATA(dir);
  auto file = gguf::File::open(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  auto tokenize = [&](const std::string& text) { return (*tok)->encode(text, true, true); };
  ChatPrompt p = ChatPrompt::create("", "", "");
  const ojson all = turns(20);
  const size_t full = tokenize(*p.render(all)).size();
  auto fitted = fit_chat_prompt(p, all, tokenize, full / 2);
  ASSERT_TRUE(fitted.is_ok()) << fitted.status().message();
  EXPECT_GT(fitted->n_dropped, 0u);
  EXPECT_EQ(fitted->n_dropped % 2, 0u);
  EXPECT_LE(fitted->tokens.size(), full / 2);
  EXPECT_EQ(fitted->tokens, tokenize(fitted->text));
  EXPECT_TRUE(fitted->text.starts_with("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"));
  EXPECT_NE(fitted->text.find("last question"), std::string::npos);
}

}  // namespace
}  // namespace sov::chat
