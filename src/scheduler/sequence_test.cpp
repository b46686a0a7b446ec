#include "scheduler/sequence.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/testdata.h"

namespace sov::scheduler {
namespace {

struct Fixture {
  std::shared_ptr<const engine::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
};

Fixture load(const std::string& dir) {
  Fixture f;
  auto model = engine::Model::load(dir + "/models/stories260K.gguf");
  EXPECT_TRUE(model.is_ok());
  f.model = *model;
  auto tok = tokenizer::Tokenizer::from_gguf(f.model->file());
  EXPECT_TRUE(tok.is_ok());
  f.tok = std::move(tok).value();
  return f;
}

GenerateParams greedy(int max_tokens) {
  GenerateParams p;
  p.sampler.temperature = 0;
  p.sampler.repeat_penalty = 1;
  p.max_tokens = max_tokens;
  return p;
}

Sequence new_sequence(const Fixture& f, int n_ctx = 128) {
  auto ctx = engine::Context::create(f.model, {.n_ctx = n_ctx, .n_threads = 1});
  EXPECT_TRUE(ctx.is_ok());
  return Sequence(std::move(ctx).value());
}

TEST(Sequence, GreedyContinuationMatchesReferenceAndReusesPrefix) {
  SOV_REQUIRE_TESTDATA(dir);
  Fixture f = load(dir);
  std::ifstream in(dir + "/reference/stories260K/greedy.json");
  auto ref = nlohmann::json::parse(in);
  std::ifstream tin(dir + "/reference/stories260K/tokens.json");
  auto ids = nlohmann::json::parse(tin)["ids"].get<std::vector<int32_t>>();

  Sequence seq = new_sequence(f);
  std::string text;
  auto r = seq.run(ids, *f.tok, greedy(16), [&](std::string_view t) {
    text += t;
    return true;
  });
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->tokens, ref["ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(text, ref["text"].get<std::string>());
  EXPECT_EQ(r->done_reason, "length");
  EXPECT_EQ(r->n_cached, 0);

  // The same prompt again: everything but the last prompt token comes from the cache.
  std::string again;
  auto r2 = seq.run(ids, *f.tok, greedy(16), [&](std::string_view t) {
    again += t;
    return true;
  });
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->n_cached, static_cast<int32_t>(ids.size()) - 1);
  EXPECT_EQ(again, text);
}

TEST(Sequence, StopStringsCancellationAndOverflow) {
  SOV_REQUIRE_TESTDATA(dir);
  Fixture f = load(dir);
  auto prompt = f.tok->encode("Once upon a time", true, false);
  Sequence seq = new_sequence(f);

  GenerateParams p = greedy(32);
  p.stop = {" park"};
  std::string text;
  auto r = seq.run(prompt, *f.tok, p, [&](std::string_view t) {
    text += t;
    return true;
  });
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->done_reason, "stop");
  EXPECT_EQ(text.find("park"), std::string::npos);
  EXPECT_FALSE(text.empty());

  int chunks = 0;
  auto cancelled = seq.run(prompt, *f.tok, greedy(32), [&](std::string_view) { return ++chunks < 3; });
  ASSERT_TRUE(cancelled.is_ok());
  EXPECT_EQ(cancelled->done_reason, "cancelled");
  EXPECT_EQ(chunks, 3);

  Sequence tiny = new_sequence(f, 4);
  auto too_long = tiny.run(f.tok->encode("Once upon a time there was", true, false), *f.tok, greedy(4),
                           [](std::string_view) { return true; });
  ASSERT_FALSE(too_long.is_ok());
  EXPECT_EQ(too_long.status().code(), ErrorCode::kOutOfRange);

  // Generation stops with "length" when the context fills up.
  Sequence small = new_sequence(f, 8);
  auto full = small.run(f.tok->encode("Once", true, false), *f.tok, greedy(-1),
                        [](std::string_view) { return true; });
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->done_reason, "length");
  EXPECT_EQ(small.context().n_past(), 8);
}

}  // namespace
}  // namespace sov::scheduler
