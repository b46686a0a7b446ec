#include <algorithm>
#include <queue>

#include "base/utf8.h"
#include "tokenizer/models.h"

namespace sov::tokenizer {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset in the segment
  uint32_t n;      // byte length; 0 once merged into its left neighbour
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
};

// Highest score first; on equal scores the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// Length of the character at `pos`: its UTF-8 length when valid, else 1. (llama.cpp trusts
// the lead byte, which lets an invalid byte swallow the next characters; for valid text the
// two agree.)
size_t char_len(std::string_view text, size_t pos) {
  size_t next = pos;
  utf8::decode(text, &next);
  return next - pos;
}

// Merges may only form tokens that SentencePiece itself would produce.
bool mergeable(const TokenData& t) {
  return (t.attr & (kAttrNormal | kAttrUserDefined)) != 0;
}

class SegmentEncoder {
 public:
  explicit SegmentEncoder(const Vocab& vocab) : vocab_(vocab) {}

  void encode(std::string_view text, std::vector<int32_t>* out) {
    symbols_.clear();
    for (size_t offs = 0; offs < text.size();) {
      size_t len = char_len(text, offs);
      int32_t index = static_cast<int32_t>(symbols_.size());
      symbols_.push_back(Symbol{index - 1, offs + len == text.size() ? -1 : index + 1,
                                static_cast<uint32_t>(offs), static_cast<uint32_t>(len)});
      offs += len;
    }
    queue_ = {};
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) add(text, i - 1, i);

    while (!queue_.empty()) {
      Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[b.left];
      Symbol& r = symbols_[b.right];
      // Stale: one side was merged away or has grown since this pair was queued.
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[r.next].prev = b.left;
      add(text, l.prev, b.left);
      add(text, b.left, l.next);
    }

    for (int32_t i = 0; i != -1; i = symbols_[i].next) {
      std::string_view piece = text.substr(symbols_[i].start, symbols_[i].n);
      int32_t id = vocab_.find(piece);
      if (id != kNoToken && !(vocab_.tokens[id].attr & (kAttrControl | kAttrUnknown))) {
        out->push_back(id);
        continue;
      }
      for (unsigned char c : piece) {
        int32_t byte_id = vocab_.byte_tokens[c];
        if (byte_id == kNoToken) byte_id = vocab_.special.unk;
        if (byte_id != kNoToken) out->push_back(byte_id);
      }
    }
  }

 private:
  void add(std::string_view text, int32_t left, int32_t right) {
    if (left == -1 || right == -1) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    std::string_view joined = text.substr(l.start, l.n + r.n);
    int32_t id = vocab_.find(joined);
    if (id == kNoToken || !mergeable(vocab_.tokens[id])) return;
    queue_.push(Bigram{vocab_.tokens[id].score, left, right, static_cast<uint32_t>(joined.size())});
  }

  const Vocab& vocab_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue_;
};

}  // namespace

struct SpmEncoder::State {
  explicit State(const Vocab& v) : segment(v) {}
  SegmentEncoder segment;
};

SpmEncoder::SpmEncoder(const Vocab& vocab) : vocab_(vocab), state_(std::make_unique<State>(vocab)) {}
SpmEncoder::~SpmEncoder() = default;

void SpmEncoder::encode(std::string_view text, std::vector<int32_t>* out) {
  if (text.empty()) return;
  if (!vocab_.spm_word_split) {
    state_->segment.encode(text, out);
    return;
  }
  // No mergeable token has U+2581 after another character, so no merge can cross the start
  // of a "▁..." word: encoding word by word gives exactly the whole-text result, faster.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    while (end < text.size() && text.compare(end, kSpaceMark.size(), kSpaceMark) == 0)
      end += kSpaceMark.size();
    end = text.find(kSpaceMark, end);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(start, end - start);
    start = end;
    if (cache_.lookup(word, out)) continue;
    size_t before = out->size();
    state_->segment.encode(word, out);
    cache_.store(word, *out, before);
  }
}

}  // namespace sov::tokenizer
