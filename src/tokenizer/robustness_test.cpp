// Hostile and unusual input: random bytes, invalid UTF-8, huge runs of one character, every
// Unicode plane. Nothing may crash, every id must be in range, and valid text must survive a
// round trip through the lossless vocabularies. Large inputs must not take quadratic time
// (no timing assertion; the test would simply not finish).
#include <gtest/gtest.h>

#include <random>

#include "base/testdata.h"
#include "base/utf8.h"
#include "tokenizer/tokenizer.h"

namespace sov::tokenizer {
namespace {

struct Loaded {
  std::string name;
  std::unique_ptr<Tokenizer> tok;
};

const std::vector<Loaded>& vocabs() {
  static std::vector<Loaded>* all = [] {
    auto* v = new std::vector<Loaded>;
    auto dir = test::testdata_dir();
    if (!dir) return v;
    for (const char* name : {"llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "deepseek-llm", "bert-bge"}) {
      auto file = gguf::File::open(*dir + "/tokenizer/ggml-vocab-" + name + ".gguf");
      if (!file.is_ok()) continue;
      auto tok = Tokenizer::from_gguf(*file);
      if (tok.is_ok()) v->push_back({name, std::move(tok).value()});
    }
    return v;
  }();
  return *all;
}

void check_ids(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, tok.n_vocab());
  }
}

// Lossless for `text`: not WordPiece, and a token for every byte in it (some byte-level
// vocabularies lack bytes that never occur in their training data, e.g. starcoder's 0xF1).
bool has_all_bytes(const Tokenizer& tok, const std::string& text) {
  if (tok.vocab_type() == VocabType::kWordPiece) return false;
  for (unsigned char c : text) {
    if (tok.vocab().byte_tokens[c] == kNoToken) return false;
  }
  return true;
}

// Encodes `text` both ways, checks ids, and for valid UTF-8 in lossless vocabs the round trip.
void exercise(const Loaded& v, const std::string& text) {
  SCOPED_TRACE(v.name);
  for (bool parse_special : {false, true}) {
    auto ids = v.tok->encode(text, /*add_special=*/true, parse_special);
    check_ids(*v.tok, ids);
    std::string back = v.tok->decode(ids, /*skip_special=*/true);
    EXPECT_TRUE(utf8::is_valid(back));
  }
  auto ids = v.tok->encode(text, false, false);
  if (has_all_bytes(*v.tok, utf8::sanitize(text))) {
    // Byte fallback / byte-level alphabets keep every byte of valid text.
    if (utf8::is_valid(text)) {
      EXPECT_EQ(v.tok->decode(ids), text);
    } else if (v.tok->vocab_type() == VocabType::kSpm) {
      EXPECT_EQ(v.tok->decode_bytes(ids), text);  // SPM keeps even invalid bytes
    } else {
      EXPECT_EQ(v.tok->decode(ids), utf8::sanitize(text));  // BPE sees U+FFFD
    }
  }
}

TEST(Robustness, RandomBytes) {
  SOV_REQUIRE_TESTDATA(dir);
  ASSERT_FALSE(vocabs().empty());
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 200; ++iter) {
    std::string s(rng() % 200, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    for (const auto& v : vocabs()) exercise(v, s);
  }
}

TEST(Robustness, InvalidUtf8) {
  SOV_REQUIRE_TESTDATA(dir);
  const std::vector<std::string> cases = {
      "\xC0\x80",
      "\xED\xA0\x80 surrogate",
      "\xF4\x90\x80\x80 above max",
      "\xE2\x82",
      "abc\xE2",
      "\xFF\xFE\xFD",
      "\x80\x80\x80 lone continuation",
      "ok \xF0\x9F\x98",
      std::string("nul\0byte", 8),
      "\xC3\x28 invalid second byte",
  };
  for (const auto& v : vocabs()) {
    for (const auto& s : cases) exercise(v, s);
  }
}

TEST(Robustness, EveryUnicodePlane) {
  SOV_REQUIRE_TESTDATA(dir);
  std::string text;
  for (uint32_t plane = 0; plane <= 16; ++plane) {
    for (uint32_t off : {0x20u, 0x41u, 0x300u, 0x4E00u, 0xFFFDu, 0xFFFFu}) {
      uint32_t cp = (plane << 16) | (off & 0xFFFF);
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      utf8::append(&text, cp);
      text += ' ';
    }
  }
  // Combining marks, zero-width joiners, RTL, Hangul, emoji sequences, NBSP and friends.
  text +=
      "e\xCC\x81 \xE2\x80\x8D \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 "
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 \xC2\xA0\xE3\x80\x80\xE2\x80\xA8x";
  for (const auto& v : vocabs()) exercise(v, text);
}

TEST(Robustness, SpecialTokenTextsAreNotParsedByDefault) {
  SOV_REQUIRE_TESTDATA(dir);
  for (const auto& v : vocabs()) {
    SCOPED_TRACE(v.name);
    for (int32_t id = 0; id < v.tok->n_vocab(); ++id) {
      if (v.tok->type(id) != TokenType::kControl) continue;
      const std::string& text = v.tok->vocab().tokens[id].text;
      auto plain = v.tok->encode("x" + text + "x", false, false);
      EXPECT_EQ(std::count(plain.begin(), plain.end(), id), 0) << text;
      auto parsed = v.tok->encode("x" + text + "x", false, true);
      EXPECT_EQ(std::count(parsed.begin(), parsed.end(), id), 1) << text;
    }
  }
}

// 1 MB of one character, for characters that stress each stage: the regex (spaces,
// newlines, digits, punctuation), the merge loop (letters), byte fallback (emoji, CJK).
TEST(Robustness, OneMegabyteRuns) {
  SOV_REQUIRE_TESTDATA(dir);
  const size_t kSize = 1 << 20;
  for (std::string unit : {" ", "\n", "a", "1", "!", "\xF0\x9F\xA6\x99", "\xE4\xB8\xAD", "\xC3\xA9", "ab "}) {
    std::string text;
    while (text.size() < kSize) text += unit;
    for (const auto& v : vocabs()) {
      SCOPED_TRACE(v.name + " x '" + unit + "'");
      auto ids = v.tok->encode(text, false, false);
      const bool blank = unit == " " || unit == "\n";
      EXPECT_EQ(ids.empty(), blank && v.tok->vocab_type() == VocabType::kWordPiece);
      check_ids(*v.tok, ids);
      if (has_all_bytes(*v.tok, text)) {
        EXPECT_EQ(v.tok->decode(ids), text);
      }
    }
  }
}

TEST(Robustness, OneMegabyteMixedText) {
  SOV_REQUIRE_TESTDATA(dir);
  std::mt19937 rng(7);
  const std::vector<std::string> parts = {"The quick brown fox jumps over the lazy dog. ",
                                          "int main() { return 0; }\n",
                                          "3.14159 2718 ",
                                          "\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE ",
                                          "\xE6\x88\x91\xE6\x83\xB3 ",
                                          "\xF0\x9F\x9A\x80 ",
                                          "   \t\n\n",
                                          "I'll "};
  std::string text;
  while (text.size() < (1u << 20)) text += parts[rng() % parts.size()];
  for (const auto& v : vocabs()) {
    SCOPED_TRACE(v.name);
    auto ids = v.tok->encode(text, true, true);
    check_ids(*v.tok, ids);
    if (has_all_bytes(*v.tok, text)) {
      EXPECT_EQ(v.tok->decode(v.tok->encode(text, false, false)), text);
    }
  }
}

}  // namespace
}  // namespace sov::tokenizer
