// Decoder models as embedders: the Context's embeddings mode gives the hidden state whose
// product with the output matrix is llama.cpp's reference logits, and EmbeddingModel runs
// decoders (pooling, batching, truncation) behind the same interface as encoders.
#include <gtest/gtest.h>

#include <cmath>

#include "base/testdata.h"
#include "engine/context.h"
#include "engine/encoder/embedding_model.h"
#include "engine/reference_data.h"
#include "kernels/matmul.h"

namespace sov::engine {
namespace {

double max_abs_diff(const std::vector<float>& a, const float* b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// The hidden states of embeddings mode, multiplied by the output matrix, are the reference
// logits at every position; the logits accessors are empty in that mode.
TEST(ContextEmbeddings, HiddenStateTimesOutputIsTheReferenceLogits) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const char* stem : {"synth-llama-F32", "synth-qwen2-F32", "synth-gemma2-F32"}) {
    std::string error;
    auto ref = test::load_reference(dir, stem, &error);
    ASSERT_TRUE(ref.has_value()) << error;
    auto model = Model::load(dir + "/models/" + stem + ".gguf");
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    const HParams& hp = (*model)->hparams();
    auto ctx =
        Context::create(*model, {.n_ctx = 64, .n_batch = 7, .n_threads = 2, .n_seq = 2, .embeddings = true});
    ASSERT_TRUE(ctx.is_ok());
    std::vector<BatchToken> batch;
    for (int32_t id : ref->prompt_ids) batch.push_back({1, id, true});
    ASSERT_TRUE((*ctx)->decode_batch(batch).is_ok());
    EXPECT_TRUE((*ctx)->batch_logits(0).empty());
    EXPECT_TRUE((*ctx)->logits().empty());

    std::vector<float> w_row(static_cast<size_t>(hp.n_embd)), logits(static_cast<size_t>(hp.n_vocab));
    double worst = 0;
    for (size_t p = 0; p < ref->prompt_ids.size(); ++p) {
      std::span<const float> h = (*ctx)->batch_embedding(p);
      ASSERT_EQ(h.size(), static_cast<size_t>(hp.n_embd));
      for (int32_t v = 0; v < hp.n_vocab; ++v) {
        kernels::dequantize_row((*model)->weights().output.view, v, w_row.data());
        double dot = 0;
        for (int32_t i = 0; i < hp.n_embd; ++i) dot += static_cast<double>(h[i]) * w_row[i];
        logits[v] = static_cast<float>(dot);
      }
      if (hp.final_softcap > 0) {
        for (float& l : logits) l = hp.final_softcap * std::tanh(l / hp.final_softcap);
      }
      worst = std::max(worst,
                       test::relative_error(logits.data(), ref->logits_row(static_cast<int>(p)), hp.n_vocab));
    }
    EXPECT_LT(worst, test::tolerance_for(stem)) << stem;
  }
}

class DecoderEmbedding : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = sov::test::testdata_dir();
    if (!dir) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    path_ = *dir + "/models/synth-llama-F32.gguf";
  }
  std::unique_ptr<EmbeddingModel> load(EmbeddingModelParams params = {.n_threads = 2}) {
    auto m = EmbeddingModel::load(path_, params);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    return m.is_ok() ? std::move(m).value() : nullptr;
  }
  std::string path_;
  std::vector<std::string> texts_ = {"Once upon a time", "there was a little girl named Lily.",
                                     "She loved to play outside in the park.", "One day"};
};

TEST_F(DecoderEmbedding, PoolsTheFinalHiddenStates) {
  auto m = load();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->arch(), "llama");
  EXPECT_FALSE(EmbeddingModel::is_embedding_arch("llama"));
  EXPECT_EQ(m->pooling(), Pooling::kLast);  // no pooling_type in the file
  EXPECT_EQ(m->n_embd(), 256);
  EXPECT_EQ(m->n_ctx(), 512);
  const std::vector<int32_t> ids = m->tokenize(texts_[1]);
  ASSERT_EQ(ids.front(), 1);  // BOS
  auto states = m->token_states(ids);
  ASSERT_TRUE(states.is_ok());
  ASSERT_EQ(states->size(), ids.size() * 256);
  const int d = 256;
  auto last = m->embed({texts_[1]}, {.normalize = false});
  auto cls = m->embed({texts_[1]}, {.normalize = false, .pooling = Pooling::kCls});
  auto mean = m->embed({texts_[1]}, {.normalize = false, .pooling = Pooling::kMean});
  ASSERT_TRUE(last.is_ok() && cls.is_ok() && mean.is_ok());
  EXPECT_LE(max_abs_diff(last->embeddings[0], states->data() + (ids.size() - 1) * d), 1e-6);
  EXPECT_LE(max_abs_diff(cls->embeddings[0], states->data()), 1e-6);
  std::vector<float> avg(d, 0.0f);
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int i = 0; i < d; ++i) avg[i] += (*states)[t * d + i] / static_cast<float>(ids.size());
  }
  EXPECT_LE(max_abs_diff(mean->embeddings[0], avg.data()), 1e-5);
  EXPECT_GT(max_abs_diff(mean->embeddings[0], last->embeddings[0].data()), 1e-2);
  EXPECT_EQ(last->n_tokens[0], static_cast<int32_t>(ids.size()));
  auto unit = m->embed({texts_[1]});
  ASSERT_TRUE(unit.is_ok());
  double norm = 0;
  for (float v : unit->embeddings[0]) norm += static_cast<double>(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

// Many inputs in one decode_batch (and in several, when they outnumber the sequences) give
// the vectors each input gets alone.
TEST_F(DecoderEmbedding, BatchEqualsOneByOne) {
  auto m = load({.n_threads = 2, .n_batch = 64});
  ASSERT_NE(m, nullptr);
  std::vector<std::string> texts;
  for (int r = 0; r < 3; ++r) texts.insert(texts.end(), texts_.begin(), texts_.end());  // 12 > 8 sequences
  for (Pooling p : {Pooling::kLast, Pooling::kMean}) {
    auto batch = m->embed(texts, {.pooling = p});
    ASSERT_TRUE(batch.is_ok()) << batch.status().message();
    ASSERT_EQ(batch->embeddings.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      auto alone = m->embed({texts[i]}, {.pooling = p});
      ASSERT_TRUE(alone.is_ok());
      EXPECT_LE(max_abs_diff(batch->embeddings[i], alone->embeddings[0].data()), 1e-6) << "text " << i;
    }
  }
}

TEST_F(DecoderEmbedding, TruncatesToTheContextOrFails) {
  auto m = load({.n_threads = 1, .n_ctx = 16});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->n_ctx(), 16);
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += " park";
  const std::vector<int32_t> ids = m->tokenize(long_text);
  ASSERT_GT(ids.size(), 16u);
  auto refused = m->embed({long_text});
  EXPECT_EQ(refused.status().code(), ErrorCode::kOutOfRange);
  auto cut = m->embed({long_text}, {.truncate = true});
  ASSERT_TRUE(cut.is_ok());
  EXPECT_EQ(cut->n_tokens[0], 16);
  // No special token follows the text (this vocab adds no EOS): the first 16 ids.
  auto manual = m->embed_tokens({std::vector<int32_t>(ids.begin(), ids.begin() + 16)});
  ASSERT_TRUE(manual.is_ok());
  EXPECT_EQ(cut->embeddings[0], manual->embeddings[0]);
  auto tokenized = m->tokenize_all({texts_[0], long_text}, true);
  ASSERT_TRUE(tokenized.is_ok());
  EXPECT_EQ((*tokenized)[1].size(), 16u);
  EXPECT_EQ(m->tokenize_all({long_text}, false).status().code(), ErrorCode::kOutOfRange);
  // A lower limit than the context (a request's num_ctx).
  auto limited = m->tokenize_all({long_text}, true, 5);
  ASSERT_TRUE(limited.is_ok());
  EXPECT_EQ((*limited)[0], std::vector<int32_t>(ids.begin(), ids.begin() + 5));
  EXPECT_EQ(m->tokenize_all({texts_[3]}, false, 2).status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(m->embed_tokens({{1, 512}}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(m->embed({texts_[0]}).is_ok());  // still works after the errors
}

TEST_F(DecoderEmbedding, SharesAModelLoadedForGeneration) {
  auto model = Model::load(path_);
  ASSERT_TRUE(model.is_ok());
  auto from = EmbeddingModel::from_decoder(*model, {.n_threads = 1});
  ASSERT_TRUE(from.is_ok()) << from.status().message();
  auto loaded = load({.n_threads = 1});
  ASSERT_NE(loaded, nullptr);
  auto a = (*from)->embed(texts_);
  auto b = loaded->embed(texts_);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->embeddings, b->embeddings);
}

}  // namespace
}  // namespace sov::engine
