#include "chat/parameters.h"

#include <gtest/gtest.h>

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;

TEST(SetParameter, ParsesTypedValues) {
  ojson p = ojson::object();
  ASSERT_TRUE(set_parameter(&p, "temperature", "0").is_ok());
  ASSERT_TRUE(set_parameter(&p, "top_k", " 20 ").is_ok());
  ASSERT_TRUE(set_parameter(&p, "top_p", "0.5").is_ok());
  ASSERT_TRUE(set_parameter(&p, "seed", "-1").is_ok());
  ASSERT_TRUE(set_parameter(&p, "num_ctx", "512").is_ok());
  EXPECT_TRUE(p["temperature"].is_number_float());
  EXPECT_EQ(p["temperature"].get<double>(), 0.0);
  EXPECT_TRUE(p["top_k"].is_number_integer());
  EXPECT_EQ(p["top_k"], 20);
  EXPECT_EQ(p["top_p"].get<double>(), 0.5);
  EXPECT_EQ(p["num_ctx"], 512);
  // A whole number is a fine float.
  ASSERT_TRUE(set_parameter(&p, "repeat_penalty", "1").is_ok());
  EXPECT_EQ(p["repeat_penalty"].get<double>(), 1.0);
}

TEST(SetParameter, StopTakesSeveralStringsAndJsonStrings) {
  ojson p = ojson::object();
  ASSERT_TRUE(set_parameter(&p, "stop", "User: \"\\n\\n\" \"two words\"").is_ok());
  EXPECT_EQ(p["stop"], ojson({"User:", "\n\n", "two words"}));
  ASSERT_TRUE(set_parameter(&p, "stop", "x").is_ok());  // replaces
  EXPECT_EQ(p["stop"], ojson({"x"}));
  EXPECT_FALSE(set_parameter(&p, "stop", "\"open").is_ok());
  EXPECT_FALSE(set_parameter(&p, "stop", "\"\"").is_ok());  // empty stop string
}

TEST(SetParameter, RefusesBadInputNamingIt) {
  ojson p = ojson::object();
  Status s = set_parameter(&p, "temprature", "1");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("temprature"), std::string::npos);
  EXPECT_NE(s.message().find("temperature"), std::string::npos);  // lists the known names
  s = set_parameter(&p, "top_k", "ten");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("top_k"), std::string::npos);
  EXPECT_FALSE(set_parameter(&p, "top_k", "1.5").is_ok());
  EXPECT_FALSE(set_parameter(&p, "temperature", "-1").is_ok());
  EXPECT_FALSE(set_parameter(&p, "temperature", "nan").is_ok());
  EXPECT_FALSE(set_parameter(&p, "top_p", "2").is_ok());  // the sampler refuses it
  EXPECT_FALSE(set_parameter(&p, "num_ctx", "-5").is_ok());
  EXPECT_FALSE(set_parameter(&p, "num_predict", "-3").is_ok());
  EXPECT_FALSE(set_parameter(&p, "seed", "").is_ok());
  EXPECT_TRUE(p.empty()) << p.dump();  // nothing refused was stored
}

TEST(SetParameter, Assignment) {
  ojson p = ojson::object();
  ASSERT_TRUE(set_parameter_assignment(&p, "temperature=0.25").is_ok());
  ASSERT_TRUE(set_parameter_assignment(&p, "num_predict 7").is_ok());
  EXPECT_EQ(p["temperature"].get<double>(), 0.25);
  EXPECT_EQ(p["num_predict"], 7);
  EXPECT_FALSE(set_parameter_assignment(&p, "temperature").is_ok());
}

TEST(GenerationSettings, DefaultsAreOllamas) {
  auto s = generation_settings(ojson::object());
  ASSERT_TRUE(s.is_ok());
  sampling::SamplerParams d;
  EXPECT_EQ(s->sampler.temperature, d.temperature);
  EXPECT_EQ(s->sampler.top_k, 40);
  EXPECT_FLOAT_EQ(s->sampler.top_p, 0.9f);
  EXPECT_FLOAT_EQ(s->sampler.repeat_penalty, 1.1f);
  EXPECT_EQ(s->sampler.seed, sampling::SamplerParams::kRandomSeed);
  EXPECT_EQ(s->num_predict, -1);
  EXPECT_EQ(s->num_ctx, 0);
  EXPECT_TRUE(s->stop.empty());
}

TEST(GenerationSettings, MapsEveryParameter) {
  ojson p = ojson::object();
  for (auto [n, v] : std::vector<std::pair<std::string, std::string>>{{"temperature", "0.5"},
                                                                      {"top_k", "5"},
                                                                      {"top_p", "0.8"},
                                                                      {"min_p", "0.05"},
                                                                      {"typical_p", "0.9"},
                                                                      {"repeat_penalty", "1.2"},
                                                                      {"repeat_last_n", "-1"},
                                                                      {"presence_penalty", "0.1"},
                                                                      {"frequency_penalty", "0.2"},
                                                                      {"seed", "42"},
                                                                      {"num_predict", "9"},
                                                                      {"num_ctx", "256"},
                                                                      {"stop", "a b"}}) {
    ASSERT_TRUE(set_parameter(&p, n, v).is_ok()) << n;
  }
  EXPECT_EQ(p.size(), known_parameters().size());  // the test covers every known parameter
  auto s = generation_settings(p);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_FLOAT_EQ(s->sampler.temperature, 0.5f);
  EXPECT_EQ(s->sampler.top_k, 5);
  EXPECT_FLOAT_EQ(s->sampler.top_p, 0.8f);
  EXPECT_FLOAT_EQ(s->sampler.min_p, 0.05f);
  EXPECT_FLOAT_EQ(s->sampler.typical_p, 0.9f);
  EXPECT_FLOAT_EQ(s->sampler.repeat_penalty, 1.2f);
  EXPECT_EQ(s->sampler.repeat_last_n, -1);
  EXPECT_FLOAT_EQ(s->sampler.presence_penalty, 0.1f);
  EXPECT_FLOAT_EQ(s->sampler.frequency_penalty, 0.2f);
  EXPECT_EQ(s->sampler.seed, 42u);
  EXPECT_EQ(s->num_predict, 9);
  EXPECT_EQ(s->num_ctx, 256);
  EXPECT_EQ(s->stop, (std::vector<std::string>{"a", "b"}));
}

TEST(GenerationSettings, ModelfileParameters) {
  // As a store's params layer holds them: a stop list, options for other runtimes.
  ojson p = {{"stop", {"</s>", "User:"}}, {"num_gpu", 99}, {"mirostat", 2}, {"temperature", 1}, {"seed", -1}};
  auto s = generation_settings(p);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s->stop, (std::vector<std::string>{"</s>", "User:"}));
  EXPECT_FLOAT_EQ(s->sampler.temperature, 1.0f);
  EXPECT_EQ(s->sampler.seed, sampling::SamplerParams::kRandomSeed);
  EXPECT_TRUE(generation_settings(ojson{{"stop", "one"}})->stop == std::vector<std::string>{"one"});
  EXPECT_FALSE(generation_settings(ojson{{"temperature", "hot"}}).is_ok());
  EXPECT_FALSE(generation_settings(ojson{{"top_k", 1.5}}).is_ok());
  EXPECT_FALSE(generation_settings(ojson{{"stop", {1, 2}}}).is_ok());
  EXPECT_FALSE(generation_settings(ojson::array()).is_ok());
  EXPECT_TRUE(generation_settings(ojson{{"top_k", 3.0}}).is_ok());  // a whole float is an int
}

}  // namespace
}  // namespace sov::chat
