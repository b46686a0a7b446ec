// The public API as an application uses it, on the real stories260K model.
#include "sovereign/sovereign.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/testdata.h"

namespace sov::api {
namespace {

TEST(PublicApi, LoadTokenizeDecodeGenerate) {
  SOV_REQUIRE_TESTDATA(dir);
  auto model = Model::load(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  EXPECT_EQ((*model)->info().architecture, "llama");
  EXPECT_EQ((*model)->info().n_vocab, 512);

  std::ifstream tin(dir + "/reference/stories260K/tokens.json");
  auto tokens = nlohmann::json::parse(tin);
  auto ids = (*model)->tokenize(tokens["prompt"].get<std::string>());
  EXPECT_EQ(ids, tokens["ids"].get<std::vector<int32_t>>());
  EXPECT_EQ((*model)->detokenize(ids), tokens["prompt"].get<std::string>());

  auto session = Session::create(*model, {.n_ctx = 64, .n_threads = 1});
  ASSERT_TRUE(session.is_ok());
  // Decoding in two pieces gives the reference logits of the last prompt position.
  ASSERT_TRUE((*session)->decode(std::span(ids).first(10)).is_ok());
  ASSERT_TRUE((*session)->decode(std::span(ids).subspan(10)).is_ok());
  EXPECT_EQ((*session)->n_past(), static_cast<int32_t>(ids.size()));
  std::ifstream lin(dir + "/reference/stories260K/logits.f32", std::ios::binary);
  std::vector<float> ref(ids.size() * 512);
  lin.read(reinterpret_cast<char*>(ref.data()), static_cast<std::streamsize>(ref.size() * 4));
  auto logits = (*session)->logits();
  ASSERT_EQ(logits.size(), 512u);
  for (int v = 0; v < 512; ++v) ASSERT_NEAR(logits[v], ref[(ids.size() - 1) * 512 + v], 1e-3) << v;

  std::ifstream gin(dir + "/reference/stories260K/greedy.json");
  auto greedy = nlohmann::json::parse(gin);
  std::string text;
  GenerateParams params{.max_tokens = 16, .sampling = {.temperature = 0}};
  auto stats = (*session)->generate(ids, params, [&](std::string_view t) {
    text += t;
    return true;
  });
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_EQ(text, greedy["text"].get<std::string>());
  EXPECT_EQ(stats->cached_tokens, static_cast<int32_t>(ids.size()) - 1);
  EXPECT_EQ(stats->generated_tokens, 16);

  (*session)->truncate(3);
  EXPECT_EQ((*session)->n_past(), 3);
  std::vector<int32_t> too_many(100, 5);
  EXPECT_EQ((*session)->decode(too_many).code(), ErrorCode::kOutOfRange);
  EXPECT_EQ((*session)->n_past(), 3);
}

TEST(PublicApi, RefusesBadFiles) {
  SOV_REQUIRE_TESTDATA(dir);
  auto missing = Model::load(dir + "/models/does-not-exist.gguf");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  auto v1 = Model::load(dir + "/models/negative/tinyllamas-stories-260k-f32.gguf");
  EXPECT_EQ(v1.status().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace sov::api
