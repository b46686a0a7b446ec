#include "server/model_config.h"

#include <gtest/gtest.h>

namespace sov::server {
namespace {

using ojson = nlohmann::ordered_json;

TEST(ModelConfig, ParametersAreDefaultsAndUnusableOnesAreSkipped) {
  ModelEntry e;
  e.params = {{"temperature", 0.25}, {"mirostat", 2}, {"num_ctx", 512}, {"stop", {"</s>", "User:"}}};
  GenOptions o = ollama_defaults();
  apply_model_params(e, &o);
  EXPECT_FLOAT_EQ(o.sampler.temperature, 0.25f);
  EXPECT_EQ(o.num_ctx, 512);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"</s>", "User:"}));
  // The request's options come after and win.
  ASSERT_TRUE(apply_ollama_options(ojson{{"temperature", 0.9}}, &o));
  EXPECT_FLOAT_EQ(o.sampler.temperature, 0.9f);
  EXPECT_EQ(o.num_ctx, 512);
}

TEST(ModelConfig, TemplateKinds) {
  EXPECT_TRUE(is_jinja_template("{% for message in messages %}{{ message.content }}{% endfor %}"));
  EXPECT_FALSE(is_jinja_template("{{ .System }} {{ .Prompt }}"));
  ModelEntry e;
  e.template_text = "{{ .System }} USER: {{ .Prompt }} ASSISTANT: {{ .Response }}";
  EXPECT_TRUE(simple_go_template(e).has_value());
  e.template_text = "{{ range .Messages }}{{ .Content }}{{ end }}";  // Ollama library style
  EXPECT_FALSE(simple_go_template(e).has_value());
  e.template_text = "{% if messages %}x{% endif %}";
  EXPECT_FALSE(simple_go_template(e).has_value());
}

TEST(ModelConfig, GoTurnsStopAtTheResponse) {
  const std::string t = "[{{ .System }}] U: {{ .Prompt }}\nA: {{- .Response }}</s>";
  EXPECT_EQ(*render_go_turn(t, "sys", "hi", nullptr), "[sys] U: hi\nA:");
  const std::string answer = " hello";
  EXPECT_EQ(*render_go_turn(t, "sys", "hi", &answer), "[sys] U: hi\nA: hello</s>");
  // Without {{ .Response }} the whole template is the turn.
  EXPECT_EQ(*render_go_turn("{{ .Prompt }}!", "", "x", nullptr), "x!");
}

TEST(ModelConfig, GoConversationOneTurnPerUserMessage) {
  const std::string t = "{{ .System }}<u>{{ .Prompt }}</u>{{ .Response }}<e>";
  ojson messages = ojson::array({{{"role", "system"}, {"content", "S"}},
                                 {{"role", "user"}, {"content", "a"}},
                                 {{"role", "assistant"}, {"content", "b"}},
                                 {{"role", "user"}, {"content", "c"}}});
  EXPECT_EQ(*render_go_conversation(t, messages), "S<u>a</u>b<e><u>c</u>");
}

TEST(ModelConfig, SystemAndMessagesComeFirst) {
  ModelEntry e;
  e.system = "model system";
  e.messages = {{"user", "example question"}, {"assistant", "example answer"}};
  ojson user_only = ojson::array({{{"role", "user"}, {"content", "q"}}});
  ojson out = with_model_messages(e, user_only);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["content"], "model system");
  EXPECT_EQ(out[1]["content"], "example question");
  EXPECT_EQ(out[3]["content"], "q");
  // A request's own system prompt replaces the model's and stays first.
  ojson with_system =
      ojson::array({{{"role", "system"}, {"content", "mine"}}, {{"role", "user"}, {"content", "q"}}});
  out = with_model_messages(e, with_system);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["content"], "mine");
  EXPECT_EQ(out[1]["content"], "example question");
}

}  // namespace
}  // namespace sov::server
