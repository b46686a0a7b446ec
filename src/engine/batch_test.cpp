// Multi-sequence batches give each sequence exactly what it gets alone; a half-precision KV
// cache stays within half-precision rounding of the float one.
#include <gtest/gtest.h>

#include <cstdio>

#include "base/testdata.h"
#include "engine/context.h"
#include "engine/reference_data.h"

namespace sov::engine {
namespace {

TEST(ContextBatch, InterleavedSequencesMatchSeparateContexts) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const char* stem : {"stories260K", "synth-gemma2-F32", "synth-qwen2-Q4_K_M"}) {
    auto model = Model::load(dir + "/models/" + stem + ".gguf");
    ASSERT_TRUE(model.is_ok());
    const int n_vocab = (*model)->hparams().n_vocab;
    const std::vector<std::vector<int32_t>> prompts = {
        {1, 400, 27, 91, 34, 250, 400, 13, 15, 16, 80, 81, 90, 300},
        {1, 56, 88, 3},
        {1, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210}};
    auto batched = Context::create(*model, {.n_ctx = 32, .n_batch = 5, .n_threads = 2, .n_seq = 3});
    ASSERT_TRUE(batched.is_ok());

    // Prefill all three prompts in one batch, interleaved round-robin the way a scheduler
    // might (order within a sequence kept), asking for logits at each prompt's end.
    std::vector<BatchToken> batch;
    std::vector<size_t> last_index(3);
    for (size_t i = 0; i < 14; ++i) {
      for (int s = 0; s < 3; ++s) {
        if (i >= prompts[s].size()) continue;
        if (i + 1 == prompts[s].size()) last_index[s] = batch.size();
        batch.push_back({s, prompts[s][i], i + 1 == prompts[s].size()});
      }
    }
    ASSERT_TRUE((*batched)->decode_batch(batch).is_ok());

    for (int s = 0; s < 3; ++s) {
      auto alone = Context::create(*model, {.n_ctx = 32, .n_threads = 1});
      ASSERT_TRUE(alone.is_ok());
      ASSERT_TRUE((*alone)->decode(prompts[s]).is_ok());
      auto got = (*batched)->batch_logits(last_index[s]);
      ASSERT_EQ(got.size(), static_cast<size_t>(n_vocab));
      EXPECT_LT(test::relative_error(got.data(), (*alone)->logits().data(), n_vocab), 1e-5)
          << stem << " seq " << s;
      EXPECT_EQ((*batched)->n_past(s), static_cast<int32_t>(prompts[s].size()));
    }
    // A generation step for all three at once, one token each.
    std::vector<BatchToken> step = {{2, 7, true}, {0, 9, true}, {1, 11, true}};
    ASSERT_TRUE((*batched)->decode_batch(step).is_ok());
    for (int s = 0; s < 3; ++s) {
      auto alone = Context::create(*model, {.n_ctx = 32, .n_threads = 1});
      std::vector<int32_t> ids = prompts[s];
      ids.push_back(step[(s + 1) % 3].token);
      ASSERT_TRUE((*alone)->decode(ids).is_ok());
      auto got = (*batched)->batch_logits((s + 1) % 3);
      EXPECT_LT(test::relative_error(got.data(), (*alone)->logits().data(), n_vocab), 1e-5)
          << stem << " step seq " << s;
    }
    EXPECT_TRUE((*batched)->batch_logits(99).empty());
  }
}

TEST(ContextBatch, BadBatchesChangeNothing) {
  SOV_REQUIRE_TESTDATA(dir);
  auto model = Model::load(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(model.is_ok());
  auto ctx = Context::create(*model, {.n_ctx = 4, .n_threads = 1, .n_seq = 2});
  ASSERT_TRUE(ctx.is_ok());
  std::vector<BatchToken> bad_seq = {{0, 1, false}, {2, 1, true}};
  EXPECT_EQ((*ctx)->decode_batch(bad_seq).code(), ErrorCode::kInvalidArgument);
  std::vector<BatchToken> overflow = {{1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5, true}};
  EXPECT_EQ((*ctx)->decode_batch(overflow).code(), ErrorCode::kOutOfRange);
  EXPECT_EQ((*ctx)->n_past(0), 0);
  EXPECT_EQ((*ctx)->n_past(1), 0);
  EXPECT_FALSE(Context::create(*model, {.n_seq = 0}).is_ok());
}

// Prompt and step-by-step logits of the reference prompts with an F16 cache against the
// same context with an F32 cache: rounding keys and values to half precision moves logits by
// a few 1e-3 of their spread with float weights, and keeps the greedy choices. With quantized
// weights the 8-bit activations magnify the change (one rounding step of an activation block
// flips), so those get the reference tolerance of quantized models.
TEST(ContextKvType, HalfPrecisionCacheStaysCloseToTheFloatCache) {
  SOV_REQUIRE_TESTDATA(dir);
  EXPECT_EQ(*parse_kv_type("F16"), KvType::kF16);
  EXPECT_EQ(*parse_kv_type("f32"), KvType::kF32);
  EXPECT_NE(parse_kv_type("q8_0").status().message().find("'q8_0' is not f16 or f32"), std::string::npos);
  for (const char* stem : {"stories260K", "synth-gemma2-F32", "synth-qwen2-Q4_K_M"}) {
    std::string error;
    auto ref = test::load_reference(dir, stem, &error);
    ASSERT_TRUE(ref.has_value()) << error;
    auto model = Model::load(dir + "/models/" + stem + ".gguf");
    ASSERT_TRUE(model.is_ok());
    const int n_vocab = ref->n_vocab;
    std::unique_ptr<Context> ctx[2];
    for (KvType t : {KvType::kF32, KvType::kF16}) {
      auto c = Context::create(*model, {.n_ctx = 256, .n_batch = 8, .n_threads = 2, .kv_type = t});
      ASSERT_TRUE(c.is_ok());
      ctx[t == KvType::kF16] = std::move(*c);
      ASSERT_TRUE(ctx[t == KvType::kF16]->decode(ref->prompt_ids, /*all_logits=*/true).is_ok());
    }
    EXPECT_EQ(ctx[1]->kv_cache_bytes() * 2, ctx[0]->kv_cache_bytes());
    double worst = 0;
    for (size_t p = 0; p < ref->prompt_ids.size(); ++p) {
      const float* half = ctx[1]->logits(static_cast<int>(p)).data();
      const float* full = ctx[0]->logits(static_cast<int>(p)).data();
      worst = std::max(worst, test::relative_error(half, full, n_vocab));
    }
    for (size_t i = 1; i < ref->greedy_ids.size(); ++i) {
      const std::span<const int32_t> step(&ref->greedy_ids[i - 1], 1);
      ASSERT_TRUE(ctx[0]->decode(step).is_ok());
      ASSERT_TRUE(ctx[1]->decode(step).is_ok());
      const float* half = ctx[1]->logits().data();
      const float* full = ctx[0]->logits().data();
      worst = std::max(worst, test::relative_error(half, full, n_vocab));
      EXPECT_EQ(test::argmax(half, n_vocab), test::argmax(full, n_vocab)) << stem << " step " << i;
    }
    std::printf("%-22s f16 vs f32 cache: rel %.2e\n", stem, worst);
    EXPECT_LT(worst, test::is_quantized(stem) ? test::tolerance_for(stem) : 1e-2) << stem;
    EXPECT_GT(worst, 0.0) << stem << ": the cache type changed nothing";
  }
}

}  // namespace
}  // namespace sov::engine
