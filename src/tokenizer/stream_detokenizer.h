// StreamDetokenizer: turns generated token ids into text chunks as they arrive. Every chunk
// is valid UTF-8: bytes of a character that is not complete yet (byte-fallback tokens, or a
// byte-level BPE token that ends mid-character) are held back until it is, and bytes that
// can never form a character come out as U+FFFD. The concatenation of all chunks, including
// flush(), equals Tokenizer::decode of the same ids (with the same skip_special) when
// at_start is true.
//
// at_start: the ids begin a sequence, so the leading space SPM/WordPiece put in front of the
// text is removed from the first text piece (as decode does). Pass false when streaming the
// continuation of a prompt.
//
// One StreamDetokenizer per stream; not thread-safe. It borrows the Tokenizer, which must
// outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace sov::tokenizer {

class StreamDetokenizer {
 public:
  explicit StreamDetokenizer(const Tokenizer& tokenizer, bool skip_special = false, bool at_start = true);

  // Text that became complete with this token (possibly empty).
  std::string push(int32_t id);
  // Everything still held back; invalid bytes as U+FFFD. The stream may continue afterwards.
  std::string flush();
  // Bytes held back, waiting for the rest of a character.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  bool strip_;
  std::string pending_;
};

}  // namespace sov::tokenizer
