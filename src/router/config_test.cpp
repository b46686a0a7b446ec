#include "router/config.h"

#include <gtest/gtest.h>

#include <map>

namespace sov::router {
namespace {

EnvFn env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr const char* kExample = R"(
offline = false

[routing]
default = "local"
hints = true

[local]
model = "stories260K"
capabilities = ["tools"]
fallback = "cloud"

[[backends]]
name = "cloud"
base_url = "https://api.example.com/v1/"
api_key_env = "CLOUD_KEY"
model = "big-model"
models = ["big-model", "bigger-model"]
aliases = { smart = "bigger-model" }
retries = 1
price = { input = 0.15, output = 0.6 }
allow_private = false

[[rules]]
name = "long"
min_prompt_tokens = 3000
backend = "cloud"

[[rules]]
name = "proofs"
keywords = ["prove", "theorem"]
match = "(?i)lemma \\d+"
backend = "cloud"

[redaction]
builtin = ["email", "secret"]

[[redaction.custom]]
name = "ticket"
pattern = "TICKET-[0-9]+"

[audit]
path = "/tmp/audit.db"
)";

TEST(RouterConfig, ParsesTheExample) {
  auto c = parse_config(kExample, env_of({{"CLOUD_KEY", "sk-test"}}));
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_FALSE(c->offline);
  EXPECT_EQ(c->local.model, "stories260K");
  EXPECT_EQ(c->local.fallback, "cloud");
  ASSERT_EQ(c->backends.size(), 1u);
  const Backend& b = c->backends[0];
  EXPECT_EQ(b.base_url, "https://api.example.com/v1");  // trailing slash dropped
  EXPECT_EQ(b.api_key, "sk-test");
  EXPECT_EQ(b.aliases.at(0).first, "smart");
  EXPECT_EQ(b.retries, 1);
  EXPECT_DOUBLE_EQ(b.price.output_per_million, 0.6);
  EXPECT_FALSE(b.allow_private);
  ASSERT_EQ(c->rules.size(), 2u);
  EXPECT_EQ(*c->rules[0].min_prompt_tokens, 3000);
  EXPECT_EQ(c->rules[1].keywords.size(), 2u);
  EXPECT_EQ(c->rules[1].match, "(?i)lemma \\d+");
  EXPECT_EQ(c->redaction.builtin.size(), 2u);
  EXPECT_EQ(c->redaction.custom.at(0).name, "ticket");
  EXPECT_EQ(c->audit_path, "/tmp/audit.db");
}

TEST(RouterConfig, EmptyFileIsLocalOnly) {
  auto c = parse_config("", env_of({}));
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->backends.empty());
  EXPECT_EQ(c->default_backend, "local");
  EXPECT_TRUE(c->redaction.enabled);
}

std::string err(const std::string& text) {
  auto c = parse_config(text, env_of({}));
  EXPECT_FALSE(c.is_ok()) << text;
  return c.is_ok() ? "" : c.status().message();
}

TEST(RouterConfig, RefusesMistakes) {
  EXPECT_NE(err("ofline = true\n").find("line 1: config: unknown key \"ofline\""), std::string::npos);
  EXPECT_NE(err("offline = \"yes\"\n").find("true or false"), std::string::npos);
  const std::string b = "[[backends]]\nname = \"x\"\nbase_url = \"https://h/v1\"\n";
  EXPECT_NE(err(b + "api_key = \"sk-123\"\n").find("never put a key"), std::string::npos);
  EXPECT_NE(err(b + "api_key_env = \"sk-abc-123\"\n").find("NAME of an environment variable"),
            std::string::npos);
  EXPECT_NE(err(b + "alow_private = true\n").find("line 4: backend \"x\": unknown key \"alow_private\""),
            std::string::npos);
  EXPECT_NE(err("[[backends]]\nname = \"local\"\nbase_url = \"https://h\"\n").find("reserved"),
            std::string::npos);
  EXPECT_NE(err("[[backends]]\nname = \"x\"\nbase_url = \"http://10.0.0.5/v1\"\n").find("allow_http"),
            std::string::npos);
  EXPECT_NE(err("[[backends]]\nname = \"x\"\nbase_url = \"ftp://h\"\n").find("https://"), std::string::npos);
  EXPECT_NE(err(b + b).find("defined twice"), std::string::npos);
  EXPECT_NE(err("[[rules]]\nbackend = \"nope\"\nmin_prompt_tokens = 1\n").find("unknown backend \"nope\""),
            std::string::npos);
  EXPECT_NE(err("[[rules]]\nbackend = \"local\"\n").find("needs a condition"), std::string::npos);
  EXPECT_NE(err("[[rules]]\nbackend = \"local\"\nneeds = [\"telepathy\"]\n").find("unknown capability"),
            std::string::npos);
  EXPECT_NE(err("[routing]\ndefault = \"mars\"\n").find("unknown backend"), std::string::npos);
  EXPECT_NE(err("rules = 1\n").find("[[rules]]"), std::string::npos);
  EXPECT_NE(err("[redaction]\nbuiltin = [\"dna\"]\n").find("unknown built-in"), std::string::npos);
}

TEST(RouterConfig, HttpToLoopbackIsFine) {
  auto c =
      parse_config("[[backends]]\nname = \"lan\"\nbase_url = \"http://127.0.0.1:8080/v1\"\n", env_of({}));
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  auto d = parse_config(
      "[[backends]]\nname = \"lan\"\nbase_url = \"http://10.0.0.5:11434/v1\"\nallow_http = true\n",
      env_of({}));
  ASSERT_TRUE(d.is_ok()) << d.status().message();
}

TEST(RouterConfig, DefaultPaths) {
  EXPECT_EQ(default_config_path(env_of({{"HOME", "/home/u"}})), "/home/u/.sovereign/config.toml");
  EXPECT_EQ(default_config_path(env_of({{"HOME", "/home/u"}, {"SOV_HOME", "/srv/sov"}})),
            "/srv/sov/config.toml");
  EXPECT_EQ(default_config_path(env_of({{"SOV_CONFIG", "/etc/sov.toml"}})), "/etc/sov.toml");
}

TEST(RouterConfig, LoadNamesTheFile) {
  auto c = load_config("/nonexistent/config.toml", env_of({}));
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("/nonexistent/config.toml"), std::string::npos);
}

}  // namespace
}  // namespace sov::router
