#include <algorithm>
#include <string>

#include "base/utf8.h"
#include "tokenizer/models.h"
#include "tokenizer/unicode.h"

namespace sov::tokenizer {
namespace {

// The CJK ranges BERT isolates (as in the reference implementations, including their
// 0x2B920 lower bound).
bool is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// BERT counts all ASCII non-alphanumerics as punctuation, plus Unicode P*.
bool is_bert_punct(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  return unicode::is_punctuation(cp);
}

std::vector<std::string> split_words(const Vocab& vocab, std::string_view text) {
  std::vector<std::string> words(1);
  std::vector<uint32_t> parts;
  auto end_word = [&] {
    if (!words.back().empty()) words.emplace_back();
  };
  for (uint32_t cp : unicode::to_code_points(text)) {
    if (unicode::is_whitespace(cp)) {
      end_word();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || unicode::is_control(cp)) continue;
    parts.clear();
    if (vocab.strip_accents) {
      unicode::decompose(cp, &parts);
      parts.erase(std::remove_if(parts.begin(), parts.end(), unicode::is_nonspacing_mark), parts.end());
    } else {
      parts.push_back(cp);
    }
    for (uint32_t c : parts) {
      if (vocab.lowercase) c = unicode::to_lower(c);
      if (is_bert_punct(c) || is_chinese_char(c)) {
        end_word();
        utf8::append(&words.back(), c);
        words.emplace_back();
      } else {
        utf8::append(&words.back(), c);
      }
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void wordpiece_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  static const std::string kWordStart = "\xe2\x96\x81";  // U+2581
  std::string word;
  for (const std::string& w : split_words(vocab, text)) {
    word = kWordStart + w;
    const size_t n = word.size();
    const size_t first = out->size();
    for (size_t i = 0; i < n;) {
      // Longest piece starting at i that is in the vocabulary.
      size_t j = std::min(n, i + vocab.max_token_len);
      int32_t id = kNoToken;
      for (; j > i; --j) {
        id = vocab.find(std::string_view(word).substr(i, j - i));
        if (id != kNoToken) break;
      }
      if (id == kNoToken) {
        out->resize(first);
        break;
      }
      out->push_back(id);
      i = j;
    }
    if (out->size() == first) out->push_back(vocab.special.unk);
  }
}

}  // namespace sov::tokenizer
