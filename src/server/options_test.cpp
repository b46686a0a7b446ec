#include "server/options.h"

#include <gtest/gtest.h>

namespace sov::server {
namespace {

TEST(Options, OllamaOptionsAreTypeChecked) {
  GenOptions o = ollama_defaults();
  EXPECT_FLOAT_EQ(o.sampler.temperature, 0.8f);
  EXPECT_EQ(o.sampler.top_k, 40);
  ASSERT_TRUE(apply_ollama_options(ojson::parse(R"({"temperature": 0, "top_k": 5, "top_p": 0.5, "min_p": 0.1,
      "typical_p": 0.9, "repeat_penalty": 1.3, "repeat_last_n": 32, "presence_penalty": 0.5,
      "frequency_penalty": 0.25, "seed": 42, "num_predict": 12, "num_ctx": 1024, "stop": ["\n", "User:"],
      "num_gpu": 1, "use_mmap": true, "unknown_option": "ignored"})"),
                                   &o)
                  .is_ok());
  EXPECT_FLOAT_EQ(o.sampler.temperature, 0);
  EXPECT_EQ(o.sampler.top_k, 5);
  EXPECT_EQ(o.sampler.seed, 42u);
  EXPECT_EQ(o.num_predict, 12);
  EXPECT_EQ(o.num_ctx, 1024);
  ASSERT_EQ(o.stop.size(), 2u);

  for (const char* bad :
       {R"({"temperature": "hot"})", R"({"top_k": 1.5})", R"({"num_ctx": 0})", R"({"stop": 3})",
        R"({"stop": [1]})", R"({"mirostat": 2})", R"({"num_predict": "x"})", R"({"use_mmap": "yes"})"}) {
    GenOptions x;
    EXPECT_FALSE(apply_ollama_options(ojson::parse(bad), &x).is_ok()) << bad;
  }
  GenOptions seed;
  ASSERT_TRUE(apply_ollama_options(ojson::parse(R"({"seed": -1})"), &seed).is_ok());
  EXPECT_EQ(seed.sampler.seed, sampling::SamplerParams::kRandomSeed);
}

TEST(Options, OpenAiParamsAndExtensions) {
  GenOptions o = openai_defaults();
  EXPECT_FLOAT_EQ(o.sampler.temperature, 1.0f);
  EXPECT_FLOAT_EQ(o.sampler.repeat_penalty, 1.0f);
  ASSERT_TRUE(apply_openai_params(ojson::parse(R"({"temperature": 0.2, "top_p": 0.8, "max_tokens": 5,
      "max_completion_tokens": 7, "stop": "END", "seed": 3, "presence_penalty": 1, "logit_bias": {"12": -100, "7": 5},
      "num_ctx": 512, "truncate": true, "options": {"top_k": 3}})"),
                                  &o)
                  .is_ok());
  EXPECT_EQ(o.num_predict, 7);
  EXPECT_EQ(o.num_ctx, 512);
  EXPECT_TRUE(o.truncate);
  EXPECT_EQ(o.sampler.top_k, 3);
  ASSERT_EQ(o.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(std::isinf(o.sampler.logit_bias.at(12)));
  EXPECT_FLOAT_EQ(o.sampler.logit_bias.at(7), 5.0f);
  EXPECT_EQ(o.sampler.repeat_last_n, -1);

  for (const char* bad :
       {R"({"temperature": 3})", R"({"max_tokens": -1})", R"({"stop": ["a","b","c","d","e"]})",
        R"({"logit_bias": {"x": 1}})", R"({"logit_bias": {"1": 500}})", R"({"presence_penalty": 9})",
        R"({"num_ctx": "big"})", R"({"options": []})"}) {
    GenOptions x = openai_defaults();
    EXPECT_FALSE(apply_openai_params(ojson::parse(bad), &x).is_ok()) << bad;
  }
}

}  // namespace
}  // namespace sov::server
