// The engine against the shared reference outputs, for every decoder model there: teacher-forced
// logits at every prompt position, the KV-cached incremental path (greedy_logits), greedy ids of the
// real models, and the optimized path against the scalar reference forward pass.
#include <gtest/gtest.h>

#include "base/testdata.h"
#include "engine/context.h"
#include "engine/reference/reference_forward.h"
#include "engine/reference_data.h"
#include "gguf/writer.h"
#include "kernels/isa.h"

namespace sov::engine {
namespace {

using test::ReferenceData;

struct Loaded {
  ReferenceData ref;
  std::shared_ptr<const Model> model;
};

std::optional<Loaded> load(const std::string& dir, const std::string& stem) {
  std::string error;
  auto ref = test::load_reference(dir, stem, &error);
  EXPECT_TRUE(ref.has_value()) << error;
  if (!ref) return std::nullopt;
  auto model = Model::load(dir + "/models/" + stem + ".gguf");
  EXPECT_TRUE(model.is_ok()) << stem << ": " << model.status().to_string();
  if (!model) return std::nullopt;
  return Loaded{std::move(*ref), *model};
}

class EngineReference : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineReference, PromptAndIncrementalLogitsMatch) {
  SOV_REQUIRE_TESTDATA(dir);
  const std::string stem = GetParam();
  auto loaded = load(dir, stem);
  ASSERT_TRUE(loaded);
  const ReferenceData& ref = loaded->ref;
  const double tol = test::tolerance_for(stem);
  const int n_vocab = ref.n_vocab;
  ASSERT_EQ(loaded->model->hparams().n_vocab, n_vocab);

  auto ctx = Context::create(loaded->model, {.n_ctx = 256, .n_batch = 8, .n_threads = 2});
  ASSERT_TRUE(ctx.is_ok());
  // Prompt in micro-batches of 8 so that the chunked path is exercised too.
  ASSERT_TRUE((*ctx)->decode(ref.prompt_ids, /*all_logits=*/true).is_ok());
  double worst = 0;
  int argmax_agree = 0;
  const int n_prompt = static_cast<int>(ref.prompt_ids.size());
  for (int p = 0; p < n_prompt; ++p) {
    auto row = (*ctx)->logits(p);
    worst = std::max(worst, test::relative_error(row.data(), ref.logits_row(p), n_vocab));
    argmax_agree += test::argmax(row.data(), n_vocab) == ref.argmax[p];
  }
  EXPECT_LE(worst, tol) << stem << " prompt logits";
  if (test::is_quantized(stem)) {
    EXPECT_GE(argmax_agree, n_prompt * 95 / 100) << stem;
  } else {
    EXPECT_EQ(argmax_agree, n_prompt) << stem;
  }

  // Incremental path: feed the reference's greedy tokens one at a time.
  double worst_greedy = test::relative_error((*ctx)->logits().data(), ref.greedy_row(0), n_vocab);
  for (size_t i = 1; i < ref.greedy_ids.size(); ++i) {
    ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&ref.greedy_ids[i - 1], 1)).is_ok());
    worst_greedy = std::max(worst_greedy, test::relative_error((*ctx)->logits().data(),
                                                               ref.greedy_row(static_cast<int>(i)), n_vocab));
  }
  EXPECT_LE(worst_greedy, tol) << stem << " incremental logits";
  std::printf("%-28s prompt rel %.2e  incremental rel %.2e  argmax %d/%d (limit %.0e)\n", stem.c_str(), worst,
              worst_greedy, argmax_agree, n_prompt, tol);
}

TEST_P(EngineReference, ScalarReferencePathMatches) {
  SOV_REQUIRE_TESTDATA(dir);
  const std::string stem = GetParam();
  auto loaded = load(dir, stem);
  ASSERT_TRUE(loaded);
  const ReferenceData& ref = loaded->ref;
  const int n_vocab = ref.n_vocab;
  ReferenceForward oracle(*loaded->model, 64);
  auto ctx = Context::create(loaded->model, {.n_ctx = 64, .n_threads = 2});
  ASSERT_TRUE(ctx.is_ok());
  double worst_vs_ref = 0, worst_vs_opt = 0;
  for (size_t p = 0; p < ref.prompt_ids.size(); ++p) {
    std::vector<float> mine = oracle.step(ref.prompt_ids[p]);
    ASSERT_EQ(mine.size(), static_cast<size_t>(n_vocab));
    ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&ref.prompt_ids[p], 1)).is_ok());
    worst_vs_ref = std::max(worst_vs_ref,
                            test::relative_error(mine.data(), ref.logits_row(static_cast<int>(p)), n_vocab));
    worst_vs_opt =
        std::max(worst_vs_opt, test::relative_error((*ctx)->logits().data(), mine.data(), n_vocab));
  }
  EXPECT_LE(worst_vs_ref, test::tolerance_for(stem)) << stem << ": scalar path vs shared reference";
  EXPECT_LE(worst_vs_opt, test::tolerance_for(stem)) << stem << ": optimized path vs scalar path";
}

// Every kernel path on every model: the scalar kernels, AVX2 and AVX-512 (with the packed
// layouts and the SIMD attention) give prompt logits and KV-cached incremental logits
// within the reference tolerance. kernels::set_isa selects the path; the model is loaded
// once per ISA so the packed copies exist whatever the path.
class EngineEveryIsa : public ::testing::TestWithParam<kernels::Isa> {};

TEST_P(EngineEveryIsa, AllModelsMatchTheReference) {
  SOV_REQUIRE_TESTDATA(dir);
  const kernels::Isa isa = GetParam();
  if (isa > kernels::best_isa()) GTEST_SKIP() << kernels::isa_name(isa) << " is not available on this CPU";
  const kernels::Isa saved = kernels::active_isa();
  kernels::set_isa(isa);
  for (const std::string& stem : test::decoder_reference_stems(dir)) {
    auto loaded = load(dir, stem);
    ASSERT_TRUE(loaded);
    const ReferenceData& ref = loaded->ref;
    const double tol = test::tolerance_for(stem);
    auto ctx = Context::create(loaded->model, {.n_ctx = 64, .n_batch = 16, .n_threads = 2});
    ASSERT_TRUE(ctx.is_ok());
    ASSERT_TRUE((*ctx)->decode(ref.prompt_ids, /*all_logits=*/true).is_ok());
    double worst = 0;
    for (size_t p = 0; p < ref.prompt_ids.size(); ++p) {
      worst = std::max(worst, test::relative_error((*ctx)->logits(static_cast<int>(p)).data(),
                                                   ref.logits_row(static_cast<int>(p)), ref.n_vocab));
    }
    for (size_t i = 1; i < std::min<size_t>(ref.greedy_ids.size(), 6); ++i) {
      ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&ref.greedy_ids[i - 1], 1)).is_ok());
      worst = std::max(worst, test::relative_error((*ctx)->logits().data(),
                                                   ref.greedy_row(static_cast<int>(i)), ref.n_vocab));
    }
    EXPECT_LE(worst, tol) << stem << " on " << kernels::isa_name(isa);
  }
  kernels::set_isa(saved);
}

INSTANTIATE_TEST_SUITE_P(Isas, EngineEveryIsa,
                         ::testing::Values(kernels::Isa::kScalar, kernels::Isa::kAvx2, kernels::Isa::kAvx512),
                         [](const auto& info) { return std::string(kernels::isa_name(info.param)); });

std::vector<std::string> stems() {
  auto dir = sov::test::testdata_dir();
  if (!dir) return {"(no test data)"};
  return test::decoder_reference_stems(*dir);
}

INSTANTIATE_TEST_SUITE_P(AllModels, EngineReference, ::testing::ValuesIn(stems()), [](const auto& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

// The real models continue the prompt exactly as the reference does (greedy, with a KV cache).
TEST(EngineGreedy, RealModelsContinueLikeTheReference) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const std::string stem : {"stories260K", "TinyLLama-v0.Q4_0"}) {
    auto loaded = load(dir, stem);
    ASSERT_TRUE(loaded);
    const ReferenceData& ref = loaded->ref;
    auto ctx = Context::create(loaded->model, {.n_ctx = 128, .n_threads = 2});
    ASSERT_TRUE(ctx.is_ok());
    ASSERT_TRUE((*ctx)->decode(ref.prompt_ids).is_ok());
    for (size_t i = 0; i < ref.greedy_ids.size(); ++i) {
      int32_t next = test::argmax((*ctx)->logits().data(), ref.n_vocab);
      ASSERT_EQ(next, ref.greedy_ids[i]) << stem << " step " << i;
      ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&next, 1)).is_ok());
    }
  }
}

TEST(EngineErrors, ContextOverflowAndBadTokens) {
  SOV_REQUIRE_TESTDATA(dir);
  auto model = Model::load(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(model.is_ok());
  auto ctx = Context::create(*model, {.n_ctx = 8, .n_threads = 1});
  ASSERT_TRUE(ctx.is_ok());
  std::vector<int32_t> nine(9, 5);
  Status s = (*ctx)->decode(nine);
  EXPECT_EQ(s.code(), ErrorCode::kOutOfRange);
  EXPECT_NE(s.message().find("context overflow"), std::string::npos);
  EXPECT_EQ((*ctx)->n_past(), 0);  // nothing was cached
  std::vector<int32_t> bad = {1, 99999};
  EXPECT_EQ((*ctx)->decode(bad).code(), ErrorCode::kInvalidArgument);
  std::vector<int32_t> eight(8, 5);
  EXPECT_TRUE((*ctx)->decode(eight).is_ok());
  EXPECT_EQ((*ctx)->decode(std::span<const int32_t>(eight.data(), 1)).code(), ErrorCode::kOutOfRange);
  (*ctx)->truncate(4);
  EXPECT_EQ((*ctx)->n_past(), 4);
  EXPECT_TRUE((*ctx)->decode(std::span<const int32_t>(eight.data(), 4)).is_ok());
}

TEST(EngineErrors, UnsupportedArchitectureAndMissingTensorAreNamed) {
  SOV_REQUIRE_TESTDATA(dir);
  auto bert = Model::load(dir + "/models/synth-bert-F32.gguf");
  ASSERT_FALSE(bert.is_ok());
  EXPECT_NE(bert.status().message().find("unsupported architecture 'bert'"), std::string::npos)
      << bert.status().message();
  auto vocab = Model::load(dir + "/tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_FALSE(vocab.is_ok());

  // Rewrite stories260K without one tensor, then with one tensor of the wrong shape.
  auto file = gguf::File::open(dir + "/models/stories260K.gguf");
  ASSERT_TRUE(file.is_ok());
  auto rewrite = [&](const std::string& skip, const std::string& reshape) {
    gguf::Writer w;
    for (const auto& kv : file->metadata()) w.set(kv.key, kv.value);
    for (const auto& t : file->tensors()) {
      if (t.info.name == skip) continue;
      std::vector<int64_t> shape(t.info.ne, t.info.ne + t.info.n_dims);
      size_t bytes = t.info.n_bytes;
      if (t.info.name == reshape) {
        shape[1] /= 2;
        bytes /= 2;
      }
      EXPECT_TRUE(w.add_tensor_view(t.info.name, t.info.type, shape, {t.data, bytes}).is_ok());
    }
    auto bytes = std::make_shared<std::vector<uint8_t>>(w.to_bytes());
    auto parsed = gguf::File::parse(*bytes);
    EXPECT_TRUE(parsed.is_ok());
    auto model = Model::load(std::make_shared<const gguf::File>(std::move(parsed).value()));
    return model.is_ok() ? std::string("loaded") : model.status().message();
  };
  EXPECT_EQ(rewrite("blk.1.attn_k.weight", ""), "tensor 'blk.1.attn_k.weight' is missing");
  EXPECT_EQ(rewrite("", "blk.0.attn_q.weight"),
            "tensor 'blk.0.attn_q.weight' has shape [64, 32], expected [64, 64]");
}

}  // namespace
}  // namespace sov::engine
