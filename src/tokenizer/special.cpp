#include "tokenizer/special.h"

#include <cctype>
#include <list>

namespace sov::tokenizer {

namespace {
bool skipped_unless_parsing(uint32_t attr) {
  return (attr & (kAttrControl | kAttrUnknown)) != 0;
}
bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
}  // namespace

SpecialMatcher::SpecialMatcher(const Vocab& vocab) : vocab_(vocab) {
  node_token_.push_back(kNoToken);
  rank_.assign(vocab.tokens.size(), -1);
  for (size_t r = 0; r < vocab.special_tokens.size(); ++r) {
    int32_t id = vocab.special_tokens[r];
    rank_[id] = static_cast<int32_t>(r);
    uint32_t node = 0;
    for (unsigned char c : vocab.tokens[id].text) {
      uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        uint32_t child = static_cast<uint32_t>(node_token_.size());
        node_token_.push_back(kNoToken);
        edges_.emplace(key, child);
        node = child;
      } else {
        node = it->second;
      }
    }
    if (node_token_[node] == kNoToken) node_token_[node] = id;
  }
}

void SpecialMatcher::find_present(std::string_view text, bool parse_special,
                                  std::vector<char>* present) const {
  for (size_t start = 0; start < text.size(); ++start) {
    uint32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == edges_.end()) break;
      node = it->second;
      int32_t id = node_token_[node];
      if (id != kNoToken && (parse_special || !skipped_unless_parsing(vocab_.tokens[id].attr))) {
        (*present)[rank_[id]] = 1;
      }
    }
  }
}

std::vector<Fragment> SpecialMatcher::partition(std::string_view text, bool parse_special) const {
  std::vector<Fragment> result;
  if (text.empty()) return result;
  std::vector<char> present(vocab_.special_tokens.size(), 0);
  if (!edges_.empty()) find_present(text, parse_special, &present);

  std::list<Fragment> frags{Fragment{kNoToken, 0, text.size()}};
  for (size_t r = 0; r < present.size(); ++r) {
    if (!present[r]) continue;
    const int32_t id = vocab_.special_tokens[r];
    const TokenData& tok = vocab_.tokens[id];
    const std::string_view needle = tok.text;
    for (auto it = frags.begin(); it != frags.end(); ++it) {
      if (it->token != kNoToken) continue;
      size_t base = it->offset;
      size_t len = it->length;
      while (true) {
        size_t match = text.substr(0, base + len).find(needle, base);
        if (match == std::string_view::npos) break;
        // Left remainder (whitespace before an lstrip token is dropped).
        if (match > base) {
          size_t left_len = match - base;
          if (tok.attr & kAttrLstrip) {
            while (left_len > 0 && is_space(text[base + left_len - 1])) --left_len;
          }
          if (left_len > 0) frags.insert(it, Fragment{kNoToken, base, left_len});
        }
        frags.insert(it, Fragment{id, match, needle.size()});
        size_t right = match + needle.size();
        size_t right_len = base + len - right;
        if (tok.attr & kAttrRstrip) {
          while (right_len > 0 && is_space(text[right])) {
            ++right;
            --right_len;
          }
        }
        base = right;
        len = right_len;
        if (len == 0) break;
      }
      // What is left of this fragment (possibly all of it) stays raw; an empty rest goes.
      if (len == 0) {
        it = frags.erase(it);
        --it;
      } else {
        it->offset = base;
        it->length = len;
      }
    }
  }
  result.assign(frags.begin(), frags.end());
  return result;
}

}  // namespace sov::tokenizer
