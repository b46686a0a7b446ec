#include <algorithm>
#include <queue>
#include <string>

#include "tokenizer/models.h"
#include "tokenizer/unicode.h"

namespace sov::tokenizer {
namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;
  uint32_t n;
};

struct Bigram {
  int32_t rank;
  int32_t left;
  int32_t right;
  uint32_t size;
};

// Lowest rank first; on equal ranks the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

size_t utf8_len(uint8_t lead) {
  static const uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

class WordEncoder {
 public:
  explicit WordEncoder(const Vocab& vocab) : vocab_(vocab) {}

  // `word` is already in the vocabulary's alphabet (byte-level encoded or raw UTF-8).
  void encode(std::string_view word, std::vector<int32_t>* out) {
    if (word.empty()) return;
    if (vocab_.ignore_merges) {
      int32_t id = vocab_.find(word);
      if (id != kNoToken) {
        out->push_back(id);
        return;
      }
    }
    symbols_.clear();
    for (size_t offs = 0; offs < word.size();) {
      size_t len = std::min(utf8_len(static_cast<uint8_t>(word[offs])), word.size() - offs);
      int32_t index = static_cast<int32_t>(symbols_.size());
      symbols_.push_back(Symbol{index - 1, offs + len == word.size() ? -1 : index + 1,
                                static_cast<uint32_t>(offs), static_cast<uint32_t>(len)});
      offs += len;
    }
    queue_ = {};
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) add(word, i - 1, i);

    while (!queue_.empty()) {
      Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[b.left];
      Symbol& r = symbols_[b.right];
      // Symbols only grow at their right end, so equal sizes mean the same texts as queued.
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[r.next].prev = b.left;
      add(word, l.prev, b.left);
      add(word, b.left, l.next);
    }

    for (int32_t i = 0; i != -1; i = symbols_[i].next) {
      std::string_view piece = word.substr(symbols_[i].start, symbols_[i].n);
      int32_t id = vocab_.find(piece);
      if (id != kNoToken) {
        out->push_back(id);
        continue;
      }
      // Not a token (a merge result missing from the vocab): fall back per byte, as llama.cpp.
      for (unsigned char c : piece) {
        int32_t byte_id = vocab_.byte_encode
                              ? vocab_.find(std::string_view(reinterpret_cast<const char*>(&c), 1))
                              : vocab_.byte_tokens[c];
        if (byte_id != kNoToken) out->push_back(byte_id);
      }
    }
  }

 private:
  void add(std::string_view word, int32_t left, int32_t right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    int32_t rank = vocab_.merge_rank(word.substr(l.start, l.n), word.substr(r.start, r.n), &key_);
    if (rank < 0) return;
    queue_.push(Bigram{rank, left, right, l.n + r.n});
  }

  const Vocab& vocab_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue_;
  std::string key_;
};

}  // namespace

struct BpeEncoder::State {
  explicit State(const Vocab& v) : word(v) {}
  WordEncoder word;
};

BpeEncoder::BpeEncoder(const Vocab& vocab, const RegexSplitter& splitter)
    : vocab_(vocab), splitter_(splitter), state_(std::make_unique<State>(vocab)) {}
BpeEncoder::~BpeEncoder() = default;

void BpeEncoder::encode(std::string_view text, std::vector<int32_t>* out) {
  words_.clear();
  splitter_.split(text, &words_);
  for (std::string_view word : words_) {
    std::string_view w = word;
    if (vocab_.byte_encode) {
      encoded_.clear();
      for (unsigned char c : word) encoded_ += unicode::byte_to_utf8(c);
      w = encoded_;
    }
    if (cache_.lookup(w, out)) continue;
    size_t before = out->size();
    state_->word.encode(w, out);
    cache_.store(w, *out, before);
  }
}

}  // namespace sov::tokenizer
