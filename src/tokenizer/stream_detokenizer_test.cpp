// StreamDetokenizer: chunks are always valid UTF-8, never split a character, and add up to
// Tokenizer::decode of the same ids.
#include "tokenizer/stream_detokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "base/testdata.h"
#include "base/utf8.h"

namespace sov::tokenizer {
namespace {

std::unique_ptr<Tokenizer> load(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file.is_ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(*file);
  return tok.is_ok() ? std::move(tok).value() : nullptr;
}

// Streams `ids` and checks every chunk and the total against decode.
void check_stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special) {
  StreamDetokenizer stream(tok, skip_special);
  std::string all;
  for (int32_t id : ids) {
    std::string chunk = stream.push(id);
    ASSERT_TRUE(utf8::is_valid(chunk));
    all += chunk;
  }
  std::string rest = stream.flush();
  ASSERT_TRUE(utf8::is_valid(rest));
  all += rest;
  EXPECT_EQ(all, tok.decode(ids, skip_special));
  EXPECT_EQ(stream.pending_bytes(), 0u);
}

class StreamVocabs : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamVocabs, RandomIdsMatchDecode) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/tokenizer/ggml-vocab-" + GetParam() + ".gguf");
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(5);
  // Bias towards byte tokens and specials, where the interesting cases are.
  std::vector<int32_t> interesting;
  for (int32_t id = 0; id < tok->n_vocab(); ++id) {
    if (tok->type(id) != TokenType::kNormal) interesting.push_back(id);
    const std::string& p = tok->piece(id);
    if (!p.empty() && !utf8::is_valid(p)) interesting.push_back(id);  // byte-level partial characters
  }
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<int32_t> ids(rng() % 30);
    for (auto& id : ids) {
      id = (!interesting.empty() && rng() % 2) ? interesting[rng() % interesting.size()]
                                               : static_cast<int32_t>(rng() % tok->n_vocab());
    }
    check_stream(*tok, ids, false);
    check_stream(*tok, ids, true);
  }
}

TEST_P(StreamVocabs, ReferenceVectorsMatchDecode) {
  SOV_REQUIRE_TESTDATA(dir);
  const std::string path = dir + "/tokenizer/ggml-vocab-" + GetParam() + ".gguf";
  auto tok = load(path);
  ASSERT_NE(tok, nullptr);
  std::ifstream out(path + ".out");
  std::string line;
  int n = 0;
  while (std::getline(out, line)) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ss >> id) ids.push_back(id);
    check_stream(*tok, ids, false);
    ++n;
  }
  EXPECT_EQ(n, 46);
}

INSTANTIATE_TEST_SUITE_P(Shared, StreamVocabs,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "starcoder", "deepseek-llm",
                                           "bert-bge"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(Stream, ByteFallbackCharacterComesOutWhole) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_NE(tok, nullptr);
  // U+1F999 is not in the vocabulary: four <0xXX> tokens.
  auto ids = tok->encode("\xF0\x9F\xA6\x99!", false, false);
  StreamDetokenizer stream(*tok);
  std::vector<std::string> chunks;
  for (int32_t id : ids) chunks.push_back(stream.push(id));
  chunks.push_back(stream.flush());
  std::string joined;
  for (const auto& c : chunks) joined += c;
  EXPECT_EQ(joined, "\xF0\x9F\xA6\x99!");
  // Nothing comes out before the fourth byte, and the character is never split.
  size_t first = 0;
  while (first < chunks.size() && chunks[first].empty()) ++first;
  ASSERT_LT(first, chunks.size());
  EXPECT_EQ(chunks[first].substr(0, 4), "\xF0\x9F\xA6\x99");
  EXPECT_GE(first, 3u);
}

TEST(Stream, LeadingSpaceOnlyAtTheStart) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/models/stories260K.gguf");
  ASSERT_NE(tok, nullptr);
  auto ids = tok->encode("Once upon", true, false);  // <s> ▁Once ▁upon
  StreamDetokenizer from_start(*tok, /*skip_special=*/true);
  std::string a;
  for (int32_t id : ids) a += from_start.push(id);
  EXPECT_EQ(a + from_start.flush(), "Once upon");
  // A continuation (the prompt was streamed elsewhere) keeps the space.
  StreamDetokenizer continuing(*tok, true, /*at_start=*/false);
  std::string b;
  for (size_t i = 1; i < ids.size(); ++i) b += continuing.push(ids[i]);
  EXPECT_EQ(b + continuing.flush(), " Once upon");
}

TEST(Stream, GreedyContinuationOfStories260K) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/models/stories260K.gguf");
  ASSERT_NE(tok, nullptr);
  std::ifstream f(dir + "/reference/stories260K/greedy.json");
  auto j = nlohmann::json::parse(f);
  StreamDetokenizer stream(*tok, false, /*at_start=*/false);
  std::string text;
  for (int32_t id : j["ids"].get<std::vector<int32_t>>()) text += stream.push(id);
  text += stream.flush();
  EXPECT_EQ(text, j["text"].get<std::string>());
}

TEST(Stream, UnfinishedCharacterFlushesAsReplacement) {
  SOV_REQUIRE_TESTDATA(dir);
  auto tok = load(dir + "/tokenizer/ggml-vocab-llama-spm.gguf");
  ASSERT_NE(tok, nullptr);
  const int32_t f0 = tok->find_token("<0xF0>"), x9f = tok->find_token("<0x9F>"), a = tok->find_token("a");
  ASSERT_GE(f0, 0);
  StreamDetokenizer stream(*tok, false, false);
  EXPECT_EQ(stream.push(f0), "");
  EXPECT_EQ(stream.push(x9f), "");
  EXPECT_EQ(stream.pending_bytes(), 2u);
  // A byte that cannot continue the character: both held bytes become U+FFFD.
  EXPECT_EQ(stream.push(a),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(stream.push(f0), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(stream.push(-1), "");
  EXPECT_EQ(stream.push(tok->n_vocab()), "");
}

}  // namespace
}  // namespace sov::tokenizer
