// Splits input text around special tokens before the model-specific tokenizer runs, as
// llama.cpp does: user-defined tokens are always matched; control and unknown tokens only
// when the caller asks to parse special tokens. Tokens are tried longest text first; each
// takes every non-overlapping occurrence (leftmost first) in the text that is still raw.
// Tokens with the lstrip/rstrip attribute swallow adjacent ASCII whitespace.
//
// SpecialMatcher is built once per vocabulary and is immutable (thread-safe).
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace sov::tokenizer {

struct Fragment {
  int32_t token = kNoToken;  // kNoToken: raw text [offset, offset + length)
  size_t offset = 0;
  size_t length = 0;
};

class SpecialMatcher {
 public:
  explicit SpecialMatcher(const Vocab& vocab);
  // Fragments in text order; raw fragments are never empty.
  std::vector<Fragment> partition(std::string_view text, bool parse_special) const;

 private:
  // Marks (in *present) every candidate special token that occurs somewhere in `text`.
  void find_present(std::string_view text, bool parse_special, std::vector<char>* present) const;

  const Vocab& vocab_;
  // Byte trie over the texts of all special tokens: edge (node << 8 | byte) -> child.
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int32_t> node_token_;  // token ending at each node, or kNoToken
  std::vector<int32_t> rank_;        // position of each special token in vocab.special_tokens
};

}  // namespace sov::tokenizer
