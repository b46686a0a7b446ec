// Token-level masks on real vocabularies: the trie walk must allow exactly the tokens whose
// bytes the grammar accepts (checked token by token), and a random walk through allowed
// tokens must always produce a sentence of the grammar.
#include "grammar/matcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "base/testdata.h"
#include "gguf/file.h"
#include "grammar/json_schema.h"
#include "grammar/token_trie.h"
#include "tokenizer/tokenizer.h"

namespace sov::grammar {
namespace {

struct Vocab {
  std::vector<std::string> pieces;  // "" for control tokens
};

Vocab load_vocab(const std::string& path) {
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  Vocab v;
  for (int32_t id = 0; id < (*tok)->n_vocab(); ++id) {
    v.pieces.push_back((*tok)->is_special(id) ? std::string() : (*tok)->piece(id));
  }
  return v;
}

bool bit(const std::vector<uint64_t>& bits, size_t id) {
  return (bits[id >> 6] >> (id & 63)) & 1;
}

// Compares the trie mask with a token-by-token check at the matcher's current state.
void expect_mask_exact(Matcher& m, const TokenTrie& trie, const Vocab& v, const std::string& where) {
  const std::vector<uint64_t> mask = m.allowed_tokens(trie);
  size_t allowed = 0, mismatches = 0;
  for (size_t id = 0; id < v.pieces.size(); ++id) {
    const bool want = !v.pieces[id].empty() && m.can_accept(v.pieces[id]);
    if (want != bit(mask, id) && ++mismatches < 5) {
      ADD_FAILURE() << where << ": token " << id << " '" << v.pieces[id] << "' trie says " << bit(mask, id);
    }
    allowed += want;
  }
  EXPECT_EQ(mismatches, 0u) << where;
}

std::shared_ptr<const Grammar> grammar(const std::string& text) {
  auto g = Grammar::parse(text);
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  return *g;
}

TEST(TokenTrie, HoldsEveryNonEmptyPiece) {
  TokenTrie trie({"a", "ab", "", "b", "ab", "abc"});
  EXPECT_EQ(trie.n_tokens(), 6u);
  EXPECT_EQ(trie.tokens().size(), 5u);  // the empty piece is left out
  // Root edges: 'a' and 'b'.
  EXPECT_EQ(trie.nodes()[0].n_edges, 2u);
}

TEST(TokenMask, SmallVocabulary) {
  TokenTrie trie({"{", "}", "\"", "a", "ab", "\"a", "{\"", "x", "", "é", "\xc3", "\xa9"});
  auto g = grammar(R"(root ::= "{" "\"" [aé]+ "\"" "}")");
  Matcher m(g);
  auto mask = m.allowed_tokens(trie);
  EXPECT_TRUE(bit(mask, 0));  // {
  EXPECT_TRUE(bit(mask, 6));  // {"
  EXPECT_FALSE(bit(mask, 1));
  EXPECT_FALSE(bit(mask, 8));  // empty
  ASSERT_TRUE(m.accept("{\""));
  mask = m.allowed_tokens(trie);
  EXPECT_TRUE(bit(mask, 3));    // a
  EXPECT_FALSE(bit(mask, 4));   // ab
  EXPECT_TRUE(bit(mask, 9));    // é
  EXPECT_TRUE(bit(mask, 10));   // first byte of é
  EXPECT_FALSE(bit(mask, 11));  // a lone continuation byte
  EXPECT_FALSE(bit(mask, 2));   // " needs one character first
  ASSERT_TRUE(m.accept("\xc3"));
  mask = m.allowed_tokens(trie);
  EXPECT_TRUE(bit(mask, 11));
  EXPECT_FALSE(bit(mask, 3));
}

class RealVocab : public ::testing::TestWithParam<const char*> {};

TEST_P(RealVocab, TrieMaskEqualsTokenByTokenCheck) {
  SOV_REQUIRE_TESTDATA(dir);
  const Vocab v = load_vocab(dir + "/" + GetParam());
  const TokenTrie trie(v.pieces);
  auto schema = nlohmann::ordered_json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "maxLength": 12},
      "age": {"type": "integer", "minimum": 0, "maximum": 150},
      "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 3}
    },
    "required": ["name", "age"]
  })");
  auto text = json_schema_to_gbnf(schema);
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  Matcher m(grammar(*text));
  // Walk through a document, checking the mask at every character boundary and inside.
  const std::string doc = "{\"name\": \"Ann é\", \"age\": 42, \"tags\": [\"red\", \"blue\"]}";
  expect_mask_exact(m, trie, v, "start");
  for (size_t i = 0; i < doc.size(); ++i) {
    ASSERT_TRUE(m.accept(doc.substr(i, 1))) << "at " << i;
    if (i % 3 == 0 || i + 1 == doc.size()) expect_mask_exact(m, trie, v, "after " + doc.substr(0, i + 1));
  }
  EXPECT_TRUE(m.is_complete());
}

TEST_P(RealVocab, RandomWalkOverAllowedTokensEndsInValidJson) {
  SOV_REQUIRE_TESTDATA(dir);
  const Vocab v = load_vocab(dir + "/" + GetParam());
  const TokenTrie trie(v.pieces);
  auto g = grammar(json_object_gbnf());
  // After a while, steer towards the end with the shortest closing tokens.
  std::vector<uint32_t> closers;
  for (const char* c : {"\"", "}", "]", ":", "0"}) {
    for (size_t id = 0; id < v.pieces.size(); ++id) {
      if (v.pieces[id] == c) closers.push_back(static_cast<uint32_t>(id));
    }
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    Matcher m(g);
    std::string text;
    for (int step = 0; step < 400 && !m.is_complete(); ++step) {
      const auto& mask = m.allowed_tokens(trie);
      uint32_t id = UINT32_MAX;
      if (step > 40) {
        for (uint32_t c : closers) {
          if (bit(mask, c)) {
            id = c;
            break;
          }
        }
      }
      if (id == UINT32_MAX) {
        std::vector<uint32_t> ids;
        for (size_t t = 0; t < v.pieces.size(); ++t) {
          if (bit(mask, t)) ids.push_back(static_cast<uint32_t>(t));
        }
        ASSERT_FALSE(ids.empty()) << text;
        id = ids[rng() % ids.size()];
      }
      ASSERT_TRUE(m.accept(v.pieces[id])) << text << " + " << v.pieces[id];
      text += v.pieces[id];
    }
    ASSERT_TRUE(m.is_complete()) << text;
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << text;
    EXPECT_TRUE(parsed.is_object()) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RealVocab,
                         ::testing::Values("models/stories260K.gguf", "tokenizer/ggml-vocab-llama-spm.gguf",
                                           "tokenizer/ggml-vocab-gpt-2.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::string out;
                           for (char c : n.substr(n.find('/') + 1)) out += std::isalnum(c) ? c : '_';
                           return out;
                         });

}  // namespace
}  // namespace sov::grammar
