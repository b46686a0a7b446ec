// The three subword algorithms. Each appends the ids for one raw text fragment (special
// tokens already split off) to *out. The encoder objects hold scratch space and a word cache
// for one Tokenizer::encode call and must not be shared between threads; the Vocab they
// read is immutable, so any number of encoders may run at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab.h"

namespace sov::tokenizer {

// Word -> ids memo for one encode call (long inputs repeat words a lot).
class WordCache {
 public:
  // Appends the cached ids of `word` to *out and returns true, or returns false.
  bool lookup(std::string_view word, std::vector<int32_t>* out) const;
  // Remembers that `word` produced (*out)[begin, out->size()).
  void store(std::string_view word, const std::vector<int32_t>& out, size_t begin);

 private:
  static constexpr size_t kMaxWordBytes = 64;
  static constexpr size_t kMaxEntries = 1 << 16;
  StringMap<std::vector<int32_t>> map_;
};

// SentencePiece BPE as llama.cpp runs it: start from UTF-8 characters (each invalid byte on
// its own), repeatedly merge the adjacent pair that forms the highest-scoring normal or
// user-defined token (leftmost on ties), then emit each piece, falling back to <0xXX> byte
// tokens for pieces that are not tokens. One SpmEncoder serves one encode call.
class SpmEncoder {
 public:
  explicit SpmEncoder(const Vocab& vocab);
  ~SpmEncoder();
  // `text` must already have spaces escaped to U+2581.
  void encode(std::string_view text, std::vector<int32_t>* out);

 private:
  struct State;
  const Vocab& vocab_;
  std::unique_ptr<State> state_;
  WordCache cache_;
};

// Byte-level (or, for SPM-style vocabs, UTF-8) BPE: split into words with the
// pre-tokenizer, then merge each word by merge rank (lowest first, leftmost on ties).
// One BpeEncoder serves one encode call.
class BpeEncoder {
 public:
  BpeEncoder(const Vocab& vocab, const RegexSplitter& splitter);
  ~BpeEncoder();
  // `text` must be valid UTF-8.
  void encode(std::string_view text, std::vector<int32_t>* out);

 private:
  struct State;
  const Vocab& vocab_;
  const RegexSplitter& splitter_;
  std::unique_ptr<State> state_;
  WordCache cache_;
  std::vector<std::string_view> words_;
  std::string encoded_;
};

// WordPiece (BERT): normalise (clean, strip accents, lower-case as the vocab says), split on
// whitespace and punctuation (each CJK ideograph is a word), then longest-match-first per
// word with U+2581 marking a word start; a word with an unmatched piece becomes [UNK].
void wordpiece_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

}  // namespace sov::tokenizer
