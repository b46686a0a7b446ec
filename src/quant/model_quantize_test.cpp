// quantize_model against llama-quantize: the shared test models were made from their F32
// sources by llama-quantize (c392e50), so quantizing the same sources must give the same
// per-tensor types and, with the reference quantizers, the same bytes.
#include "quant/model_quantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "base/testdata.h"
#include "gguf/file.h"

namespace sov::quant {
namespace {

using gguf::TensorType;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::map<TensorType, int> type_counts(const gguf::File& f) {
  std::map<TensorType, int> counts;
  for (const auto& t : f.tensors()) ++counts[t.info.type];
  return counts;
}

struct Case {
  const char* source;  // F32 file stem
  const char* target;  // llama-quantize output stem
  const char* type;
  std::map<TensorType, int> counts;  // from the testdata README
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.target;
}

class ModelQuantize : public ::testing::TestWithParam<Case> {};

TEST_P(ModelQuantize, MatchesLlamaQuantize) {
  SOV_REQUIRE_TESTDATA(dir);
  const Case& c = GetParam();
  const std::string src = dir + "/models/" + c.source + ".gguf";
  const std::string want_path = dir + "/models/" + c.target + ".gguf";
  const auto out_dir = std::filesystem::temp_directory_path() / "sov_model_quantize_test";
  std::filesystem::create_directories(out_dir);
  const std::string out = (out_dir / (std::string(c.target) + ".gguf")).string();

  auto ft = parse_file_type(c.type);
  ASSERT_TRUE(ft.has_value()) << c.type;
  ThreadPool pool(2);
  QuantizeOptions opt;
  opt.type = *ft;
  opt.pool = &pool;
  const Status s = quantize_model(src, out, opt);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  auto got = gguf::File::open(out);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  auto want = gguf::File::open(want_path);
  ASSERT_TRUE(want.is_ok()) << want.status().to_string();

  EXPECT_EQ(type_counts(*got), c.counts);
  EXPECT_EQ(type_counts(*got), type_counts(*want));
  ASSERT_EQ(got->tensors().size(), want->tensors().size());
  for (size_t i = 0; i < got->tensors().size(); ++i) {
    const auto& g = got->tensors()[i];
    const auto& w = want->tensors()[i];
    EXPECT_EQ(g.info.name, w.info.name) << "tensor order differs at " << i;
    EXPECT_EQ(g.info.type, w.info.type) << g.info.name;
    EXPECT_EQ(g.info.shape_string(), w.info.shape_string()) << g.info.name;
    if (g.info.n_bytes == w.info.n_bytes) {
      EXPECT_EQ(std::memcmp(g.data, w.data, g.info.n_bytes), 0) << g.info.name << " bytes differ";
    }
  }
  ASSERT_EQ(got->metadata().size(), want->metadata().size());
  for (size_t i = 0; i < got->metadata().size(); ++i) {
    EXPECT_EQ(got->metadata()[i].key, want->metadata()[i].key) << i;
    EXPECT_TRUE(got->metadata()[i].value == want->metadata()[i].value) << got->metadata()[i].key;
  }
  // Same metadata, tensors and layout: the whole file is the same.
  EXPECT_TRUE(read_all(out) == read_all(want_path)) << "files differ";
  std::filesystem::remove(out);
}

const TensorType F32 = TensorType::kF32, F16 = TensorType::kF16, BF16 = TensorType::kBF16,
                 Q8_0 = TensorType::kQ8_0, Q6_K = TensorType::kQ6_K, Q5_K = TensorType::kQ5_K,
                 Q5_1 = TensorType::kQ5_1, Q5_0 = TensorType::kQ5_0, Q4_K = TensorType::kQ4_K,
                 Q4_1 = TensorType::kQ4_1, Q4_0 = TensorType::kQ4_0, Q3_K = TensorType::kQ3_K,
                 Q2_K = TensorType::kQ2_K;

INSTANTIATE_TEST_SUITE_P(
    Testdata, ModelQuantize,
    ::testing::Values(
        Case{"synth-llama-F32", "synth-llama-F16", "F16", {{F16, 16}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-BF16", "BF16", {{BF16, 16}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q8_0", "Q8_0", {{Q8_0, 16}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q6_K", "Q6_K", {{Q6_K, 16}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q5_K_M", "Q5_K_M", {{Q5_K, 13}, {Q6_K, 3}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q5_1", "Q5_1", {{Q5_1, 15}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q5_0", "Q5_0", {{Q5_0, 15}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q4_K_M", "Q4_K_M", {{Q4_K, 13}, {Q6_K, 3}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q4_1", "Q4_1", {{Q4_1, 15}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q4_0", "Q4_0", {{Q4_0, 15}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-F32",
             "synth-llama-Q3_K_M",
             "Q3_K_M",
             {{Q3_K, 9}, {Q4_K, 4}, {Q5_K, 2}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-F32", "synth-llama-Q2_K", "Q2_K", {{Q2_K, 9}, {Q3_K, 6}, {Q6_K, 1}, {F32, 5}}},
        Case{"synth-llama-tied-F32", "synth-llama-tied-F16", "F16", {{F16, 15}, {F32, 6}}},
        Case{"synth-llama-tied-F32", "synth-llama-tied-Q4_K_M", "Q4_K_M", {{Q4_K, 12}, {Q6_K, 3}, {F32, 6}}},
        Case{"synth-qwen2-F32", "synth-qwen2-F16", "F16", {{F16, 15}, {F32, 11}}},
        Case{"synth-qwen2-F32", "synth-qwen2-Q4_K_M", "Q4_K_M", {{Q4_K, 12}, {Q6_K, 3}, {F32, 11}}},
        Case{"synth-qwen3-F32", "synth-qwen3-F16", "F16", {{F16, 16}, {F32, 9}}},
        Case{"synth-phi3-F32", "synth-phi3-F16", "F16", {{F16, 10}, {F32, 5}}},
        Case{"synth-phi3-F32", "synth-phi3-Q4_K_M", "Q4_K_M", {{Q4_K, 6}, {Q5_K, 2}, {Q6_K, 2}, {F32, 5}}},
        Case{"synth-gemma2-F32", "synth-gemma2-F16", "F16", {{F16, 183}, {F32, 105}}},
        Case{"synth-gemma2-F32", "synth-gemma2-Q4_K_M", "Q4_K_M", {{Q5_0, 156}, {Q8_0, 27}, {F32, 105}}},
        Case{"stories260K", "stories260K-F16", "F16", {{F16, 37}, {F32, 11}}}),
    [](const auto& info) {
      std::string n = info.param.target;
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

TEST(FileTypes, NamesRoundTrip) {
  for (std::string_view name : file_type_names()) {
    auto t = parse_file_type(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(file_type_name(*t), name);
  }
  EXPECT_EQ(parse_file_type("q4_k_m"), FileType::kQ4_K_M);
  EXPECT_EQ(parse_file_type("Q4_K"), FileType::kQ4_K_M);
  EXPECT_FALSE(parse_file_type("Q4_K_X").has_value());
  EXPECT_EQ(static_cast<uint32_t>(FileType::kQ4_K_M), 15u);
}

TEST(ModelQuantizeErrors, RefusesRequantizeAndMissingFiles) {
  SOV_REQUIRE_TESTDATA(dir);
  QuantizeOptions opt;
  opt.type = FileType::kQ4_0;
  const auto out = (std::filesystem::temp_directory_path() / "sov_requant.gguf").string();
  EXPECT_EQ(quantize_model(dir + "/models/synth-llama-Q8_0.gguf", out, opt).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(quantize_model(dir + "/models/does-not-exist.gguf", out, opt).is_ok());
  opt.allow_requantize = true;
  EXPECT_TRUE(quantize_model(dir + "/models/synth-llama-Q8_0.gguf", out, opt).is_ok());
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace sov::quant
