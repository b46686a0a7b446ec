// The encoder against the llama.cpp references of synth-bert and synth-nomic-bert
// (testdata reference/<stem>/: tokens.json, embeddings.f32, embeddings_raw.f32,
// token_states.f32), with the tolerances the test data README prescribes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/testdata.h"
#include "engine/encoder/embedding_model.h"

namespace sov::engine {
namespace {

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> out;
  if (!in) return out;
  in.seekg(0, std::ios::end);
  out.resize(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
  return out;
}

double cosine(const float* a, const float* b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

struct Reference {
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
  std::vector<float> embeddings, raw, states;  // [4][128], [4][128], [41][128]
};

Reference load_reference(const std::string& dir) {
  Reference r;
  std::ifstream in(dir + "/tokens.json");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return r;
  r.texts = j["texts"].get<std::vector<std::string>>();
  r.ids = j["ids"].get<std::vector<std::vector<int32_t>>>();
  r.embeddings = read_f32(dir + "/embeddings.f32");
  r.raw = read_f32(dir + "/embeddings_raw.f32");
  r.states = read_f32(dir + "/token_states.f32");
  return r;
}

class EncoderReference : public ::testing::TestWithParam<const char*> {};

TEST_P(EncoderReference, MatchesLlamaCpp) {
  SOV_REQUIRE_TESTDATA(dir);
  const std::string stem = GetParam();
  auto model = EmbeddingModel::load(dir + "/models/" + stem + ".gguf", {.n_threads = 2});
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  EmbeddingModel& m = **model;
  const Reference ref = load_reference(dir + "/reference/" + stem);
  ASSERT_EQ(ref.texts.size(), 4u);
  const int d = m.n_embd();
  ASSERT_EQ(d, 128);
  ASSERT_EQ(ref.embeddings.size(), 4u * d);
  ASSERT_EQ(ref.raw.size(), 4u * d);
  EXPECT_EQ(m.pooling(), Pooling::kMean);
  EXPECT_EQ(m.n_ctx(), 512);

  for (size_t i = 0; i < ref.texts.size(); ++i)
    EXPECT_EQ(m.tokenize(ref.texts[i]), ref.ids[i]) << ref.texts[i];

  auto normed = m.embed(ref.texts);
  ASSERT_TRUE(normed.is_ok()) << normed.status().message();
  auto raw = m.embed(ref.texts, {.normalize = false});
  ASSERT_TRUE(raw.is_ok()) << raw.status().message();
  double worst_cos = 1, worst_diff = 0, worst_raw_cos = 1, worst_raw_diff = 0, worst_state = 0;
  size_t state_row = 0;
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(normed->embeddings[i].size(), static_cast<size_t>(d));
    EXPECT_EQ(normed->n_tokens[i], static_cast<int32_t>(ref.ids[i].size()));
    const float* want = &ref.embeddings[i * d];
    const double c = cosine(normed->embeddings[i].data(), want, d);
    const double diff = max_abs_diff(normed->embeddings[i].data(), want, d);
    EXPECT_GE(c, 0.9999) << stem << " text " << i;
    EXPECT_LE(diff, 1e-3) << stem << " text " << i;
    worst_cos = std::min(worst_cos, c);
    worst_diff = std::max(worst_diff, diff);

    const float* want_raw = &ref.raw[i * d];
    const double rc = cosine(raw->embeddings[i].data(), want_raw, d);
    const double rdiff = max_abs_diff(raw->embeddings[i].data(), want_raw, d);
    EXPECT_GE(rc, 0.9999) << stem << " raw text " << i;
    EXPECT_LE(rdiff, 1e-3) << stem << " raw text " << i;
    worst_raw_cos = std::min(worst_raw_cos, rc);
    worst_raw_diff = std::max(worst_raw_diff, rdiff);

    auto states = m.token_states(ref.ids[i]);
    ASSERT_TRUE(states.is_ok());
    ASSERT_EQ(states->size(), ref.ids[i].size() * d);
    ASSERT_LE((state_row + ref.ids[i].size()) * d, ref.states.size());
    const double sdiff = max_abs_diff(states->data(), &ref.states[state_row * d], states->size());
    EXPECT_LE(sdiff, 5e-3) << stem << " token states of text " << i;
    worst_state = std::max(worst_state, sdiff);
    state_row += ref.ids[i].size();
  }
  EXPECT_EQ(state_row * d, ref.states.size());
  std::printf(
      "%s: embeddings min cosine %.9f max|diff| %.3g; raw min cosine %.9f max|diff| %.3g; "
      "token states max|diff| %.3g\n",
      stem.c_str(), worst_cos, worst_diff, worst_raw_cos, worst_raw_diff, worst_state);
}

INSTANTIATE_TEST_SUITE_P(Models, EncoderReference,
                         ::testing::Values("synth-bert-F32", "synth-nomic-bert-F32"));

class EncoderModelTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto dir = test::testdata_dir();
    if (!dir) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    path_ = *dir + "/models/" + GetParam() + ".gguf";
    auto ref = load_reference(*dir + "/reference/" + GetParam());
    texts_ = ref.texts;
    ASSERT_EQ(texts_.size(), 4u);
  }
  std::unique_ptr<EmbeddingModel> load(EmbeddingModelParams params = {.n_threads = 2}) {
    auto m = EmbeddingModel::load(path_, params);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    return m.is_ok() ? std::move(m).value() : nullptr;
  }
  std::string path_;
  std::vector<std::string> texts_;
};

// One forward pass over all texts (and passes split at odd places) equals one by one, bit
// for bit.
TEST_P(EncoderModelTest, BatchEqualsOneByOne) {
  auto m = load();
  ASSERT_NE(m, nullptr);
  std::vector<std::string> texts = texts_;
  texts.push_back("");  // [CLS] [SEP] only
  texts.push_back(texts_[1] + " " + texts_[2] + " " + texts_[0]);
  for (bool normalize : {true, false}) {
    auto batch = m->embed(texts, {.normalize = normalize});
    ASSERT_TRUE(batch.is_ok());
    ASSERT_EQ(batch->embeddings.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      auto alone = m->embed({texts[i]}, {.normalize = normalize});
      ASSERT_TRUE(alone.is_ok());
      EXPECT_EQ(batch->embeddings[i], alone->embeddings[0]) << "text " << i;  // bit for bit
    }
  }
  // Micro-batches of at most 16 tokens: each input alone, or a few short ones together.
  auto small = load({.n_threads = 1, .n_batch = 16});
  ASSERT_NE(small, nullptr);
  auto full = m->embed(texts);
  auto split = small->embed(texts);
  ASSERT_TRUE(full.is_ok() && split.is_ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(full->embeddings[i], split->embeddings[i]) << "text " << i;
  }
  EXPECT_EQ(full->total_tokens, split->total_tokens);
}

TEST_P(EncoderModelTest, PoolingOverridesAndDimensions) {
  auto m = load();
  ASSERT_NE(m, nullptr);
  const int d = m->n_embd();
  const std::vector<int32_t> ids = m->tokenize(texts_[1]);
  auto states = m->token_states(ids);
  ASSERT_TRUE(states.is_ok());
  auto cls = m->embed({texts_[1]}, {.normalize = false, .pooling = Pooling::kCls});
  auto last = m->embed({texts_[1]}, {.normalize = false, .pooling = Pooling::kLast});
  auto mean = m->embed({texts_[1]}, {.normalize = false, .pooling = Pooling::kMean});
  ASSERT_TRUE(cls.is_ok() && last.is_ok() && mean.is_ok());
  EXPECT_LE(max_abs_diff(cls->embeddings[0].data(), states->data(), d), 1e-6);
  EXPECT_LE(max_abs_diff(last->embeddings[0].data(), states->data() + (ids.size() - 1) * d, d), 1e-6);
  EXPECT_GT(max_abs_diff(cls->embeddings[0].data(), mean->embeddings[0].data(), d), 1e-2);

  // dimensions: the first k values, normalised after cutting.
  auto cut = m->embed({texts_[1]}, {.dimensions = 32});
  ASSERT_TRUE(cut.is_ok());
  ASSERT_EQ(cut->embeddings[0].size(), 32u);
  std::vector<float> want(mean->embeddings[0].begin(), mean->embeddings[0].begin() + 32);
  double norm = 0;
  for (float v : want) norm += static_cast<double>(v) * v;
  for (float& v : want) v = static_cast<float>(v / std::sqrt(norm));
  EXPECT_LE(max_abs_diff(cut->embeddings[0].data(), want.data(), 32), 1e-6);
  double cut_norm = 0;
  for (float v : cut->embeddings[0]) cut_norm += static_cast<double>(v) * v;
  EXPECT_NEAR(cut_norm, 1.0, 1e-5);

  EXPECT_EQ(m->embed({texts_[0]}, {.dimensions = d + 1}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(m->embed({texts_[0]}, {.dimensions = -1}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(m->embed({texts_[0]}, {.pooling = Pooling::kNone}).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(EncoderModelTest, TruncationKeepsSepOrFails) {
  auto m = load();
  ASSERT_NE(m, nullptr);
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "cat ";  // 600 words: 602 tokens with [CLS] [SEP]
  const std::vector<int32_t> ids = m->tokenize(long_text);
  ASSERT_EQ(ids.size(), 602u);
  ASSERT_EQ(ids.back(), 102);

  auto refused = m->embed({texts_[0], long_text});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(refused.status().message().find("input 1 has 602 tokens"), std::string::npos)
      << refused.status().message();

  auto cut = m->embed({texts_[0], long_text}, {.truncate = true});
  ASSERT_TRUE(cut.is_ok()) << cut.status().message();
  EXPECT_EQ(cut->n_tokens[1], 512);
  EXPECT_EQ(cut->total_tokens, 512 + static_cast<int64_t>(m->tokenize(texts_[0]).size()));
  // The same as the first 511 ids followed by [SEP].
  std::vector<int32_t> want(ids.begin(), ids.begin() + 511);
  want.push_back(102);
  auto manual = m->embed_tokens({want});
  ASSERT_TRUE(manual.is_ok());
  EXPECT_EQ(cut->embeddings[1], manual->embeddings[0]);
  // ...and differs from a plain cut that loses [SEP].
  auto plain = m->embed_tokens({ids}, {.truncate = true});
  ASSERT_TRUE(plain.is_ok());
  EXPECT_EQ(plain->n_tokens[0], 512);
  EXPECT_GT(max_abs_diff(cut->embeddings[1].data(), plain->embeddings[0].data(), m->n_embd()), 1e-4);

  // tokenize_all applies the same rule, also to a lower limit: [SEP] stays last.
  auto tokenized = m->tokenize_all({long_text}, true);
  ASSERT_TRUE(tokenized.is_ok());
  EXPECT_EQ((*tokenized)[0], want);
  auto limited = m->tokenize_all({long_text}, true, 8);
  ASSERT_TRUE(limited.is_ok());
  std::vector<int32_t> want8(ids.begin(), ids.begin() + 7);
  want8.push_back(102);
  EXPECT_EQ((*limited)[0], want8);
  EXPECT_EQ(m->tokenize_all({long_text}, false).status().code(), ErrorCode::kOutOfRange);

  // Exactly the context fits without truncation.
  std::vector<int32_t> exact(ids.begin(), ids.begin() + 512);
  EXPECT_TRUE(m->embed_tokens({exact}).is_ok());
  exact.push_back(102);
  EXPECT_EQ(m->embed_tokens({exact}).status().code(), ErrorCode::kOutOfRange);
}

TEST_P(EncoderModelTest, ThreadCountDoesNotChangeResults) {
  auto one = load({.n_threads = 1});
  auto two = load({.n_threads = 2});
  ASSERT_TRUE(one != nullptr && two != nullptr);
  auto a = one->embed(texts_);
  auto b = two->embed(texts_);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  for (size_t i = 0; i < texts_.size(); ++i) {
    EXPECT_EQ(a->embeddings[i], b->embeddings[i]) << "text " << i;
  }
  // On a caller's pool.
  ThreadPool pool(2);
  auto shared = load({.pool = &pool});
  ASSERT_NE(shared, nullptr);
  auto c = shared->embed(texts_);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->embeddings, b->embeddings);
}

TEST_P(EncoderModelTest, BadInputs) {
  auto m = load();
  ASSERT_NE(m, nullptr);
  auto empty = m->embed(std::vector<std::string>{});
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->embeddings.empty());
  EXPECT_EQ(m->embed_tokens({{101, 102}, {}}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(m->embed_tokens({{101, 30522, 102}}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(m->embed_tokens({{101, -1, 102}}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(m->token_states({}).is_ok());
  // Still works after the errors.
  EXPECT_TRUE(m->embed({texts_[0]}).is_ok());
}

INSTANTIATE_TEST_SUITE_P(Models, EncoderModelTest,
                         ::testing::Values("synth-bert-F32", "synth-nomic-bert-F32"));

TEST(EncoderLoad, ArchitecturesAndMissingFiles) {
  SOV_REQUIRE_TESTDATA(dir);
  // Decoders load as embedders (decoder_embedder_test.cpp); EncoderModel itself refuses them.
  EXPECT_TRUE(EmbeddingModel::load(dir + "/models/synth-llama-F32.gguf", {.n_threads = 1}).is_ok());
  auto decoder = EncoderModel::load(dir + "/models/synth-llama-F32.gguf");
  ASSERT_FALSE(decoder.is_ok());
  EXPECT_EQ(decoder.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(decoder.status().message().find("'llama'"), std::string::npos) << decoder.status().message();
  EXPECT_FALSE(EmbeddingModel::load(dir + "/models/does-not-exist.gguf").is_ok());
  EXPECT_FALSE(EmbeddingModel::load(dir + "/models/negative/tinyllamas-stories-260k-f32.gguf").is_ok());
  EXPECT_TRUE(EmbeddingModel::is_embedding_arch("bert"));
  EXPECT_TRUE(EmbeddingModel::is_embedding_arch("nomic-bert"));
  EXPECT_FALSE(EmbeddingModel::is_embedding_arch("llama"));
}

}  // namespace
}  // namespace sov::engine
