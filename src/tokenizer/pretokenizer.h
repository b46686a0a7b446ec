// BPE pre-tokenizers: the table of `tokenizer.ggml.pre` names (as written by llama.cpp's
// convert_hf_to_gguf.py) with the regex sequence and flags of each, and RegexSplitter, which
// applies such a sequence with PCRE2 (UTF mode, Unicode properties, JIT).
//
// Semantics (those of a Hugging Face `Sequence` of `Split(..., behavior="isolated")`, which
// llama.cpp reproduces): the text starts as one piece; each regex in turn splits every piece
// into its matches and the gaps between them, all kept, in order. A regex sees one piece as
// its whole subject, so `$`, `\b` and look-arounds stop at the piece's edges. Empty matches
// only mark a split point. Where llama.cpp rewrote a tokenizer.json regex for std::regex, the
// table keeps the original (PCRE2 supports \p{Lu}, possessive quantifiers and (?i)).
//
// A compiled RegexSplitter is immutable and safe to use from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::tokenizer {

struct PreTokenizerSpec {
  std::string_view name;              // canonical group name, e.g. "llama3"
  std::vector<std::string> patterns;  // applied in order
  // Flags llama.cpp attaches to the name (defaults are those of plain GPT-2 BPE).
  bool ignore_merges = false;  // a word that is already a token is emitted whole
  bool add_bos = false;        // default for tokenizer.ggml.add_bos_token
  bool add_sep = false;
  bool no_bos = false;              // the vocab has no BOS unless a key names one
  bool clean_spaces = true;         // clean_up_tokenization_spaces default
  bool byte_encode = true;          // GPT-2 byte-level alphabet; false: raw UTF-8 with <0xXX> fallback
  bool escape_whitespaces = false;  // spaces become U+2581 before splitting (SPM-style BPE)
};

// The spec for a `tokenizer.ggml.pre` value, or nullptr when the name is unknown.
// "" (key absent) and "default" give llama.cpp's default sequence.
const PreTokenizerSpec* find_pre_tokenizer(std::string_view name);
// The spec used for unknown names: plain GPT-2.
const PreTokenizerSpec& gpt2_pre_tokenizer();
// Every name the table knows (for tests and `sov show`).
std::vector<std::string_view> known_pre_tokenizer_names();

class RegexSplitter {
 public:
  static Result<std::shared_ptr<const RegexSplitter>> compile(const std::vector<std::string>& patterns);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Splits valid UTF-8 `text` into consecutive non-empty pieces that cover it exactly.
  // A regex that hits PCRE2's match limit on hostile input leaves the rest of that piece
  // unsplit (and logs a warning) instead of failing.
  void split(std::string_view text, std::vector<std::string_view>* out) const;

 private:
  RegexSplitter() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sov::tokenizer
