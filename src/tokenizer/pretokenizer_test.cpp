// Pre-tokenizer regex sequences: split semantics (gaps kept, piece-local subjects, empty
// matches), and the splits of the main families on the inputs that tell them apart.
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "base/utf8.h"

namespace sov::tokenizer {
namespace {

using Pieces = std::vector<std::string>;

Pieces split_with(const std::vector<std::string>& patterns, std::string_view text) {
  auto splitter = RegexSplitter::compile(patterns);
  EXPECT_TRUE(splitter.is_ok()) << splitter.status().to_string();
  if (!splitter.is_ok()) return {};
  std::vector<std::string_view> views;
  (*splitter)->split(text, &views);
  return Pieces(views.begin(), views.end());
}

Pieces split_pre(std::string_view pre, std::string_view text) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(pre);
  EXPECT_NE(spec, nullptr) << pre;
  if (spec == nullptr) return {};
  return split_with(spec->patterns, text);
}

TEST(PreTokenizerTable, EveryNameCompiles) {
  auto names = known_pre_tokenizer_names();
  EXPECT_GE(names.size(), 90u);
  for (auto name : names) {
    auto splitter = RegexSplitter::compile(find_pre_tokenizer(name)->patterns);
    EXPECT_TRUE(splitter.is_ok()) << name << ": " << splitter.status().to_string();
  }
}

TEST(PreTokenizerTable, KnowsTheNamesInCurrentGgufFiles) {
  for (const char* name :
       {"default",     "llama-bpe",  "llama3",       "qwen2",      "deepseek-llm", "deepseek-coder",
        "deepseek-v3", "falcon",     "mpt",          "starcoder",  "gpt-2",        "refact",
        "command-r",   "stablelm2",  "olmo",         "dbrx",       "smaug-bpe",    "poro-chat",
        "chatglm-bpe", "glm4",       "viking",       "jais",       "tekken",       "smollm",
        "codeshell",   "bloom",      "gpt3-finnish", "exaone",     "chameleon",    "minerva-7b",
        "megrez",      "gpt-4o",     "superbpe",     "trillion",   "bailingmoe",   "llama4",
        "pixtral",     "seed-coder", "falcon-h1",    "kimi-k2",    "hunyuan",      "grok-2",
        "afmoe",       "qwen35",     "exaone4",      "roberta-bpe"}) {
    EXPECT_NE(find_pre_tokenizer(name), nullptr) << name;
  }
  EXPECT_EQ(find_pre_tokenizer("no-such-pre"), nullptr);
  EXPECT_EQ(gpt2_pre_tokenizer().patterns.size(), 1u);
}

TEST(RegexSplitter, KeepsGapsAndMatchesInOrder) {
  EXPECT_EQ(split_with({"[0-9]+"}, "ab12cd345"), (Pieces{"ab", "12", "cd", "345"}));
  EXPECT_EQ(split_with({"x"}, "abc"), (Pieces{"abc"}));
  EXPECT_EQ(split_with({"x"}, ""), Pieces{});
}

TEST(RegexSplitter, LaterRegexesSeeOnePieceAsTheWholeSubject) {
  // "$" after the first split matches at the end of each piece, not only of the text.
  EXPECT_EQ(split_with({"[\\r\\n]", "\\s+$"}, "a  \nb  "), (Pieces{"a", "  ", "\n", "b", "  "}));
  // The lookahead (?!\S) stops at a piece edge.
  EXPECT_EQ(split_with({"b", "\\s+(?!\\S)"}, "a  b"), (Pieces{"a", "  ", "b"}));
}

TEST(RegexSplitter, EmptyMatchesOnlySplit) {
  // superbpe's digit grouping from the right.
  EXPECT_EQ(split_pre("superbpe", "1234567"), (Pieces{"1", "234", "567"}));
  EXPECT_EQ(split_pre("superbpe", "x123456y"), (Pieces{"x", "123", "456", "y"}));
}

TEST(GptTwo, WhitespaceBeforeAWordStaysWithTheWord) {
  EXPECT_EQ(split_pre("gpt-2", "   Hello"), (Pieces{"  ", " Hello"}));
  EXPECT_EQ(split_pre("gpt-2", "Hello  "), (Pieces{"Hello", "  "}));
  EXPECT_EQ(split_pre("gpt-2", "\t\n"), (Pieces{"\t\n"}));
  EXPECT_EQ(split_pre("gpt-2", "I've 'RE 12.5!!"), (Pieces{"I", "'ve", " '", "RE", " 12", ".", "5", "!!"}));
  EXPECT_EQ(split_pre("gpt-2",
                      "a\xC2\xA0"
                      "b"),
            (Pieces{"a", "\xC2\xA0", "b"}));  // NBSP is \s
}

TEST(Llama3, DigitsInThreesAndCaseInsensitiveContractions) {
  EXPECT_EQ(split_pre("llama-bpe", "3333333"), (Pieces{"333", "333", "3"}));
  EXPECT_EQ(split_pre("llama-bpe", "I'VE we'Re"), (Pieces{"I", "'VE", " we", "'Re"}));
  EXPECT_EQ(split_pre("llama-bpe", "\n\n\n  Hello"), (Pieces{"\n\n\n", " ", " Hello"}));
  EXPECT_EQ(split_pre("llama-bpe", "(x)\n\n"), (Pieces{"(x", ")\n\n"}));
  EXPECT_EQ(split_pre("llama-bpe", "  \n x"), (Pieces{"  \n", " x"}));
  EXPECT_EQ(split_pre("qwen2", "2024"), (Pieces{"2", "0", "2", "4"}));
}

TEST(Gpt4o, SplitsCamelCaseAndKeepsContractions) {
  EXPECT_EQ(split_pre("gpt-4o", "HelloWorld don't"), (Pieces{"Hello", "World", " don't"}));
  EXPECT_EQ(split_pre("gpt-4o", "path/to\n"), (Pieces{"path", "/to", "\n"}));
}

TEST(DeepseekLlm, SequenceOfSplits) {
  EXPECT_EQ(split_pre("deepseek-llm", "Hello, 123 \xE4\xB8\xAD\xE6\x96\x87"),
            (Pieces{"Hello", ",", " ", "123", " ", "\xE4\xB8\xAD\xE6\x96\x87"}));
}

TEST(Starcoder, DigitsAreSingle) {
  EXPECT_EQ(split_pre("starcoder", "x=42"), (Pieces{"x", "=", "4", "2"}));
}

TEST(RegexSplitter, PiecesAlwaysCoverTheText) {
  std::mt19937 rng(99);
  const std::vector<uint32_t> alphabet = {'a',  'Z',    '3',     ' ',   '\n',   '\t',   '\'',  '!',
                                          0xA0, 0x4E2D, 0x1F680, 0x301, 0x2028, 0xFF11, 0x0E01};
  auto names = known_pre_tokenizer_names();
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    int n = rng() % 40;
    for (int i = 0; i < n; ++i) utf8::append(&text, alphabet[rng() % alphabet.size()]);
    for (auto name : names) {
      Pieces pieces = split_pre(name, text);
      std::string joined;
      for (const auto& p : pieces) {
        EXPECT_FALSE(p.empty()) << name;
        EXPECT_TRUE(utf8::is_valid(p)) << name;
        joined += p;
      }
      ASSERT_EQ(joined, text) << name;
    }
  }
}

TEST(RegexSplitter, HostileInputFinishes) {
  // \s+$ over a long run of spaces that is not at the end would be quadratic.
  std::string text(200000, ' ');
  text += "\x01";
  auto pieces = split_pre("deepseek-llm", text);
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(joined, text);
}

}  // namespace
}  // namespace sov::tokenizer
