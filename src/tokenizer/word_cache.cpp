#include "tokenizer/models.h"

namespace sov::tokenizer {

bool WordCache::lookup(std::string_view word, std::vector<int32_t>* out) const {
  if (word.size() > kMaxWordBytes) return false;
  auto it = map_.find(word);
  if (it == map_.end()) return false;
  out->insert(out->end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::store(std::string_view word, const std::vector<int32_t>& out, size_t begin) {
  if (word.size() > kMaxWordBytes || map_.size() >= kMaxEntries) return;
  map_.emplace(std::string(word), std::vector<int32_t>(out.begin() + begin, out.end()));
}

}  // namespace sov::tokenizer
