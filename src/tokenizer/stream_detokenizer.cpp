#include "tokenizer/stream_detokenizer.h"

#include "base/utf8.h"

namespace sov::tokenizer {

StreamDetokenizer::StreamDetokenizer(const Tokenizer& tokenizer, bool skip_special, bool at_start)
    : tokenizer_(tokenizer),
      skip_special_(skip_special),
      strip_(at_start && tokenizer.strips_leading_space()) {}

std::string StreamDetokenizer::push(int32_t id) {
  if (id < 0 || id >= tokenizer_.n_vocab()) return "";
  const bool special = tokenizer_.is_special(id);
  if (skip_special_ && special) return "";
  const std::string& p = tokenizer_.piece(id);
  if (strip_ && !special) {
    strip_ = false;
    pending_.append(p, !p.empty() && p[0] == ' ' ? 1 : 0, std::string::npos);
  } else {
    pending_ += p;
  }
  // Keep back a character that is valid so far but not finished; the rest is final.
  size_t keep = utf8::incomplete_tail(pending_);
  std::string ready = utf8::sanitize(std::string_view(pending_).substr(0, pending_.size() - keep));
  pending_.erase(0, pending_.size() - keep);
  return ready;
}

std::string StreamDetokenizer::flush() {
  std::string rest = utf8::sanitize(pending_);
  pending_.clear();
  return rest;
}

}  // namespace sov::tokenizer
