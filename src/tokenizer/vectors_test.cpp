// The shared tokenizer vectors (llama.cpp's models/ggml-vocab-*.gguf.inp/.out, produced by
// the Hugging Face reference tokenizers) and the reference token ids of the test models.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/testdata.h"
#include "tokenizer/tokenizer.h"

namespace sov::tokenizer {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// .inp: tests separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per test.
struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> read_cases(const std::string& inp_path, const std::string& out_path) {
  const std::string raw = read_file(inp_path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(raw.substr(pos));
      break;
    }
    inputs.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream out(read_file(out_path));
  std::string line;
  size_t i = 0;
  while (std::getline(out, line)) {
    Case c;
    if (i < inputs.size()) c.text = inputs[i];
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    cases.push_back(std::move(c));
    ++i;
  }
  EXPECT_EQ(inputs.size(), cases.size()) << inp_path;
  return cases;
}

std::unique_ptr<Tokenizer> load(const std::string& path) {
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  if (!file.is_ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(*file);
  EXPECT_TRUE(tok.is_ok()) << path << ": " << tok.status().to_string();
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

std::string ids_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

// Tokenizes every case without special tokens and compares; also checks that decoding the
// reference ids gives the text back, for every vocabulary but WordPiece (which lower-cases,
// strips accents and drops spacing). SPM is lossless here: decode removes exactly the one
// space that encode puts in front.
void check_vectors(const std::string& vocab_path, size_t expected_cases) {
  auto tok = load(vocab_path);
  ASSERT_NE(tok, nullptr);
  auto cases = read_cases(vocab_path + ".inp", vocab_path + ".out");
  if (expected_cases) {
    ASSERT_EQ(cases.size(), expected_cases);
  }
  const bool lossless = tok->vocab_type() != VocabType::kWordPiece;
  for (const Case& c : cases) {
    std::vector<int32_t> ids = tok->encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(ids, c.ids) << vocab_path << "\ntext: '" << c.text << "'\n got: " << ids_string(ids)
                          << "\nwant: " << ids_string(c.ids);
    if (lossless) {
      EXPECT_EQ(tok->decode(c.ids), c.text) << vocab_path;
    }
  }
}

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, MatchReference) {
  SOV_REQUIRE_TESTDATA(dir);
  check_vectors(dir + "/tokenizer/ggml-vocab-" + GetParam() + ".gguf", 46);
}

// More vectors: every ggml-vocab-*.gguf with .inp/.out in $SOV_TOKENIZER_VECTORS (e.g. a
// checkout of llama.cpp's models/ folder). Skipped when the variable is unset.
TEST(VocabVectorsExtra, FromEnvironment) {
  const char* extra = std::getenv("SOV_TOKENIZER_VECTORS");
  if (extra == nullptr) GTEST_SKIP() << "SOV_TOKENIZER_VECTORS not set";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(extra)) {
    const std::string p = e.path().string();
    if (e.path().extension() != ".gguf" || std::filesystem::file_size(e.path()) == 0) continue;
    if (!std::filesystem::exists(p + ".inp") || !std::filesystem::exists(p + ".out")) continue;
    SCOPED_TRACE(p);
    check_vectors(p, 0);
    ++n;
  }
  EXPECT_GT(n, 0);
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabVectors,
                         ::testing::Values("bert-bge", "deepseek-llm", "gpt-2", "llama-spm", "mpt", "phi-3",
                                           "starcoder"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(VocabFiles, EveryVocabInTestdataLoads) {
  SOV_REQUIRE_TESTDATA(dir);
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/tokenizer")) {
    if (e.path().extension() != ".gguf") continue;
    auto tok = load(e.path().string());
    ASSERT_NE(tok, nullptr) << e.path();
    EXPECT_GT(tok->n_vocab(), 1000) << e.path();
    // Something plain must survive a round trip through every vocabulary.
    auto ids = tok->encode("hello world", false, false);
    EXPECT_FALSE(ids.empty()) << e.path();
    ++n;
  }
  EXPECT_GE(n, 9);
}

TEST(VocabFiles, KeysAndDefaults) {
  SOV_REQUIRE_TESTDATA(dir);
  auto spm = load(dir + "/tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_NE(spm, nullptr);
  EXPECT_EQ(spm->vocab_type(), VocabType::kSpm);
  EXPECT_EQ(spm->bos(), 1);
  EXPECT_EQ(spm->eos(), 2);
  EXPECT_EQ(spm->unk(), 0);
  EXPECT_TRUE(spm->add_bos());
  EXPECT_FALSE(spm->add_eos());
  EXPECT_EQ(spm->nl(), 13);  // <0x0A>
  EXPECT_TRUE(spm->is_eog(2));
  EXPECT_EQ(spm->type(1), TokenType::kControl);
  EXPECT_EQ(spm->type(3), TokenType::kByte);

  auto bert = load(dir + "/tokenizer/ggml-vocab-bert-bge.gguf");
  ASSERT_NE(bert, nullptr);
  EXPECT_EQ(bert->vocab_type(), VocabType::kWordPiece);
  EXPECT_EQ(bert->cls(), 101);
  EXPECT_EQ(bert->bos(), 101);
  EXPECT_EQ(bert->sep(), 102);
  EXPECT_EQ(bert->unk(), 100);
  EXPECT_EQ(bert->mask(), 103);
  EXPECT_EQ(bert->pad(), 0);

  auto gpt2 = load(dir + "/tokenizer/ggml-vocab-gpt-2.gguf");
  ASSERT_NE(gpt2, nullptr);
  EXPECT_EQ(gpt2->vocab_type(), VocabType::kBpe);
  EXPECT_EQ(gpt2->eos(), 50256);
  EXPECT_FALSE(gpt2->add_bos());
  EXPECT_TRUE(gpt2->is_eog(50256));
  EXPECT_EQ(gpt2->nl(), 198);

  auto neox = load(dir + "/tokenizer/ggml-vocab-gpt-neox.gguf");  // no tokenizer.ggml.pre
  ASSERT_NE(neox, nullptr);
  EXPECT_EQ(neox->pre(), "");
  auto deepseek = load(dir + "/tokenizer/ggml-vocab-deepseek-llm.gguf");
  ASSERT_NE(deepseek, nullptr);
  EXPECT_TRUE(deepseek->add_bos());
  EXPECT_EQ(deepseek->bos(), 100000);
}

// --- Reference ids of the test models ---

void check_reference_prompt(const std::string& dir, const std::string& model, const std::string& ref) {
  auto tok = load(dir + "/models/" + model);
  ASSERT_NE(tok, nullptr);
  auto j = nlohmann::json::parse(read_file(dir + "/reference/" + ref + "/tokens.json"));
  std::vector<int32_t> want = j["ids"].get<std::vector<int32_t>>();
  std::string prompt = j["prompt"].get<std::string>();
  std::vector<int32_t> got = tok->encode(prompt, /*add_special=*/true, /*parse_special=*/false);
  EXPECT_EQ(got, want) << "got " << ids_string(got);
  auto pieces = j["pieces"].get<std::vector<std::string>>();
  ASSERT_EQ(pieces.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(tok->piece(want[i]), pieces[i]) << i;
  EXPECT_EQ(tok->decode(got, /*skip_special=*/true), prompt);
}

TEST(ReferenceModels, Stories260K) {
  SOV_REQUIRE_TESTDATA(dir);
  check_reference_prompt(dir, "stories260K.gguf", "stories260K");
}

TEST(ReferenceModels, TinyLlamaV0) {
  SOV_REQUIRE_TESTDATA(dir);
  check_reference_prompt(dir, "TinyLLama-v0.Q4_0.gguf", "TinyLLama-v0.Q4_0");
}

TEST(ReferenceModels, GreedyTextOfStories260K) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/models/stories260K.gguf");
  ASSERT_NE(tok, nullptr);
  auto tokens = nlohmann::json::parse(read_file(dir + "/reference/stories260K/tokens.json"));
  auto greedy = nlohmann::json::parse(read_file(dir + "/reference/stories260K/greedy.json"));
  std::vector<int32_t> prompt = tokens["ids"].get<std::vector<int32_t>>();
  std::vector<int32_t> gen = greedy["ids"].get<std::vector<int32_t>>();
  std::string text;
  for (int32_t id : gen) text += tok->piece(id);
  EXPECT_EQ(text, greedy["text"].get<std::string>());
  std::vector<int32_t> all(prompt.begin() + 1, prompt.end());
  all.insert(all.end(), gen.begin(), gen.end());
  EXPECT_EQ(tok->decode(all), greedy["full_text"].get<std::string>());
}

TEST(ReferenceModels, SynthBert) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/models/synth-bert-F32.gguf");
  ASSERT_NE(tok, nullptr);
  auto j = nlohmann::json::parse(read_file(dir + "/reference/synth-bert-F32/tokens.json"));
  auto texts = j["texts"].get<std::vector<std::string>>();
  auto ids = j["ids"].get<std::vector<std::vector<int32_t>>>();
  ASSERT_EQ(texts.size(), ids.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(tok->encode(texts[i], true, false), ids[i]) << texts[i];
  }
}

TEST(ReferenceModels, EveryModelInTestdataHasAWorkingTokenizer) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const auto& e : std::filesystem::directory_iterator(dir + "/models")) {
    if (e.path().extension() != ".gguf") continue;
    auto file = gguf::File::open(e.path().string());
    ASSERT_TRUE(file.is_ok()) << e.path();
    auto tok = Tokenizer::from_gguf(*file);
    ASSERT_TRUE(tok.is_ok()) << e.path() << ": " << tok.status().to_string();
    auto ids = (*tok)->encode("Once upon a time", true, false);
    EXPECT_GE(ids.size(), 2u) << e.path();
  }
}

}  // namespace
}  // namespace sov::tokenizer
