#include "tokenizer/tokenizer.h"

#include <cstdlib>
#include <optional>

#include "base/log.h"
#include "base/utf8.h"
#include "tokenizer/models.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special.h"
#include "tokenizer/unicode.h"

namespace sov::tokenizer {
namespace {

constexpr std::string_view kSpaceMark = "\xe2\x96\x81";  // U+2581, SentencePiece's space

void replace_all(std::string* s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s->size());
  size_t pos = 0;
  while (true) {
    size_t hit = s->find(from, pos);
    if (hit == std::string::npos) break;
    out.append(*s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(*s, pos, std::string::npos);
  s->swap(out);
}

// "<0x0A>" -> 10; -1 when the text is not a byte token.
int parse_byte_token(const std::string& text) {
  if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return -1;
  char hex[3] = {text[3], text[4], 0};
  char* end = nullptr;
  long v = std::strtol(hex, &end, 16);
  return end == hex + 2 ? static_cast<int>(v) : -1;
}

std::string byte_level_decode(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    uint32_t cp = utf8::decode(text, &pos);
    int b = unicode::utf8_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      out.append(text, start, pos - start);  // not in the byte alphabet: keep as is
    }
  }
  return out;
}

std::string make_piece(const Vocab& v, int32_t id) {
  const TokenData& t = v.tokens[id];
  if (t.attr & (kAttrControl | kAttrUnknown | kAttrUserDefined)) return t.text;
  if (t.attr & kAttrNormal) {
    std::string s = t.text;
    if (v.type == VocabType::kBpe && !v.escape_whitespaces) return byte_level_decode(s);
    replace_all(&s, kSpaceMark, " ");
    return s;
  }
  if (t.attr & kAttrByte) {
    int b = parse_byte_token(t.text);
    return b >= 0 ? std::string(1, static_cast<char>(b)) : t.text;
  }
  return "";  // unused and undefined tokens render as nothing, as in llama.cpp
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const gguf::File& file) {
  SOV_ASSIGN_OR_RETURN(Vocab vocab, load_vocab(file));
  return from_vocab(std::move(vocab));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_vocab(Vocab vocab) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(vocab)));
  const Vocab& v = t->vocab_;
  if (v.type == VocabType::kBpe) {
    const PreTokenizerSpec* spec = find_pre_tokenizer(v.pre);
    if (spec == nullptr) spec = &gpt2_pre_tokenizer();
    SOV_ASSIGN_OR_RETURN(t->splitter_, RegexSplitter::compile(spec->patterns));
  }
  t->special_ = std::make_unique<SpecialMatcher>(v);
  t->pieces_.reserve(v.tokens.size());
  for (int32_t id = 0; id < v.n_tokens(); ++id) t->pieces_.push_back(make_piece(v, id));
  t->strip_leading_space_ =
      (v.type == VocabType::kSpm && v.add_space_prefix) || v.type == VocabType::kWordPiece;
  return t;
}

// Per-call state: encoders and word caches shared by all raw fragments of one text.
struct Tokenizer::Session {
  std::optional<SpmEncoder> spm;
  std::optional<BpeEncoder> bpe;
};

void Tokenizer::encode_fragment(Session& session, std::string_view text, bool prefix_space,
                                std::vector<int32_t>* out) const {
  switch (vocab_.type) {
    case VocabType::kSpm: {
      std::string s;
      s.reserve(text.size() + 1);
      if (prefix_space) s.push_back(' ');
      s.append(text);
      replace_all(&s, " ", kSpaceMark);
      if (!session.spm) session.spm.emplace(vocab_);
      session.spm->encode(s, out);
      break;
    }
    case VocabType::kBpe: {
      // Invalid UTF-8 becomes U+FFFD, as llama.cpp's code point conversion does.
      std::string s = utf8::is_valid(text) ? std::string(text) : utf8::sanitize(text);
      if (vocab_.escape_whitespaces) replace_all(&s, " ", kSpaceMark);
      if (!session.bpe) session.bpe.emplace(vocab_, *splitter_);
      session.bpe->encode(s, out);
      break;
    }
    case VocabType::kWordPiece: wordpiece_encode(vocab_, text, out); break;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  std::vector<Fragment> frags = special_->partition(text, parse_special);
  const SpecialIds& s = vocab_.special;
  const bool wordpiece = vocab_.type == VocabType::kWordPiece;
  if (add_special && (wordpiece || vocab_.add_bos) && s.bos != kNoToken) out.push_back(s.bos);
  // SPM puts a space in front of the text and after every special token.
  Session session;
  bool prev_special = true;
  for (const Fragment& f : frags) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    bool prefix = vocab_.type == VocabType::kSpm && vocab_.add_space_prefix && prev_special;
    encode_fragment(session, text.substr(f.offset, f.length), prefix, &out);
    prev_special = false;
  }
  if (add_special) {
    if (wordpiece) {
      if (s.sep != kNoToken) out.push_back(s.sep);
    } else if (vocab_.add_eos && s.eos != kNoToken) {
      out.push_back(s.eos);
    }
  }
  return out;
}

const std::string& Tokenizer::piece(int32_t id) const {
  static const std::string kEmpty;
  return vocab_.valid(id) ? pieces_[id] : kEmpty;
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  bool strip = strip_leading_space_;
  for (int32_t id : ids) {
    if (!vocab_.valid(id)) continue;
    const bool special = is_special(id);
    if (skip_special && special) continue;
    const std::string& p = pieces_[id];
    if (strip && !special) {
      strip = false;
      if (!p.empty() && p[0] == ' ') {
        out.append(p, 1, std::string::npos);
        continue;
      }
    }
    out += p;
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string bytes = decode_bytes(ids, skip_special);
  return utf8::is_valid(bytes) ? bytes : utf8::sanitize(bytes);
}

std::string clean_up_tokenization_spaces(std::string_view text) {
  // Three in-place passes with the exact index logic of llama.cpp's detokenizer.
  std::string t(text);
  size_t total = t.size();
  // " ?", " !", " .", " ,": drop the space.
  size_t n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    t[total++] = x;
  }
  // " ' ": drop the spaces around a lone apostrophe.
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --total;
      t[++i] = '\0';
    }
    t[total++] = x;
  }
  // " 's", " 'm", " 're", " 've": drop the space (" 't", " 'd", " 'll" keep it).
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = t[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    t[total++] = x;
  }
  t.resize(total);
  return t;
}

}  // namespace sov::tokenizer
