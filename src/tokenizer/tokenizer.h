// Tokenizer: text <-> token ids for the vocabulary stored in a GGUF file, bit-exact with
// llama.cpp's tokenizers (SentencePiece BPE, GPT-2 byte-level BPE with every current
// pre-tokenizer, WordPiece).
//
// Encoding: special tokens are split off first (user-defined always, control only with
// parse_special), then each raw fragment goes through the model's algorithm. add_special
// adds what the vocabulary asks for (BOS/EOS; CLS and SEP for WordPiece).
//
// Decoding: each id maps to its piece (SPM U+2581 -> space, <0xXX> -> the byte, byte-level
// BPE characters -> bytes, WordPiece word starts -> space). The leading space that SPM (and
// WordPiece) put in front of the text is removed from the first text piece of a sequence,
// past any control tokens such as BOS. decode() does not apply
// clean_up_tokenization_spaces; call clean_up_tokenization_spaces() for that.
//
// Deliberate differences from llama.cpp (none affects valid text in the shared vectors):
// - SPM merges only form normal or user-defined tokens (SentencePiece's rule), so plain text
//   can never turn into a control token such as <s>; an invalid UTF-8 byte is a symbol of
//   its own instead of swallowing the next bytes, which keeps SPM lossless on any bytes.
// - An unknown tokenizer.ggml.pre falls back to the GPT-2 regex with a warning (llama.cpp
//   refuses the file); where llama.cpp rewrote a tokenizer.json regex for std::regex
//   (tekken, gpt-4o, kimi-k2, ...), the original regex runs, as in Hugging Face tokenizers.
// - Auto-detected EOT/FIM tokens are picked in a fixed order of candidate texts.
//
// A Tokenizer is immutable after from_gguf and all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/file.h"
#include "tokenizer/vocab.h"

namespace sov::tokenizer {

class RegexSplitter;
class SpecialMatcher;

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const gguf::File& file);
  static Result<std::unique_ptr<Tokenizer>> from_vocab(Vocab vocab);
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Text of the ids as valid UTF-8 (invalid byte sequences become U+FFFD). Ids outside the
  // vocabulary are skipped. skip_special drops control and unknown tokens (BOS, EOS, [CLS]...).
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // Same, but the exact bytes (may be invalid UTF-8, e.g. a cut-off byte-fallback sequence).
  std::string decode_bytes(std::span<const int32_t> ids, bool skip_special = false) const;
  // The bytes one token stands for (control tokens render as their text); "" when out of range.
  const std::string& piece(int32_t id) const;

  int32_t n_vocab() const { return vocab_.n_tokens(); }
  VocabType vocab_type() const { return vocab_.type; }
  const std::string& model_name() const { return vocab_.model; }
  const std::string& pre() const { return vocab_.pre; }
  const Vocab& vocab() const { return vocab_; }

  int32_t bos() const { return vocab_.special.bos; }
  int32_t eos() const { return vocab_.special.eos; }
  int32_t eot() const { return vocab_.special.eot; }
  int32_t eom() const { return vocab_.special.eom; }
  int32_t unk() const { return vocab_.special.unk; }
  int32_t pad() const { return vocab_.special.pad; }
  int32_t sep() const { return vocab_.special.sep; }
  int32_t cls() const { return vocab_.special.cls; }
  int32_t mask() const { return vocab_.special.mask; }
  int32_t nl() const { return vocab_.special.nl; }
  const SpecialIds& special_ids() const { return vocab_.special; }
  bool add_bos() const { return vocab_.add_bos; }
  bool add_eos() const { return vocab_.add_eos; }
  bool clean_up_spaces() const { return vocab_.clean_spaces; }

  bool is_eog(int32_t id) const { return vocab_.is_eog(id); }
  // Control or unknown: hidden by skip_special.
  bool is_special(int32_t id) const { return (vocab_.attr(id) & (kAttrControl | kAttrUnknown)) != 0; }
  TokenType type(int32_t id) const {
    return vocab_.valid(id) ? vocab_.tokens[id].type : TokenType::kUndefined;
  }
  float score(int32_t id) const { return vocab_.valid(id) ? vocab_.tokens[id].score : 0.0f; }
  // The token whose text is exactly `text`, or kNoToken.
  int32_t find_token(std::string_view text) const { return vocab_.find(text); }
  // Whether decoding removes one leading space from the first text piece.
  bool strips_leading_space() const { return strip_leading_space_; }

 private:
  struct Session;
  explicit Tokenizer(Vocab vocab);
  void encode_fragment(Session& session, std::string_view text, bool prefix_space,
                       std::vector<int32_t>* out) const;

  Vocab vocab_;
  std::unique_ptr<SpecialMatcher> special_;
  std::shared_ptr<const RegexSplitter> splitter_;  // BPE only
  std::vector<std::string> pieces_;
  bool strip_leading_space_ = false;
};

// llama.cpp's clean_up_tokenization_spaces: " ?" " !" " ." " ," lose the space, " ' " becomes
// "'", and " 's" " 'm" " 're" " 've" lose the space.
std::string clean_up_tokenization_spaces(std::string_view text);

}  // namespace sov::tokenizer
