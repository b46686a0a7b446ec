// Vocabulary of a tokenizer, read from the `tokenizer.ggml.*` keys of a GGUF file: model
// type, token texts, scores and types, BPE merges, special token ids and the flags that
// steer encoding. Defaults for absent keys follow llama.cpp, per model type and per
// pre-tokenizer name. A Vocab is immutable after load_vocab and safe to share across threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "gguf/file.h"

namespace sov::tokenizer {

inline constexpr int32_t kNoToken = -1;

enum class VocabType { kSpm, kBpe, kWordPiece };
std::string_view vocab_type_name(VocabType t);

// `tokenizer.ggml.token_type` values (fixed by the GGUF convention).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Attribute bits derived from the type plus llama.cpp's per-model fixes.
enum TokenAttr : uint32_t {
  kAttrNormal = 1u << 0,
  kAttrUnknown = 1u << 1,
  kAttrControl = 1u << 2,
  kAttrUserDefined = 1u << 3,
  kAttrUnused = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 6,  // whitespace before this special token is dropped when it is parsed
  kAttrRstrip = 1u << 7,  // whitespace after it is dropped
};

struct TokenData {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
  uint32_t attr = kAttrNormal;
};

struct SpecialIds {
  int32_t bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken;
  int32_t sep = kNoToken, pad = kNoToken, cls = kNoToken, mask = kNoToken, nl = kNoToken;
  int32_t fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken;
  int32_t fim_pad = kNoToken, fim_rep = kNoToken, fim_sep = kNoToken;
};

// Hash for heterogeneous lookup of std::string keys by std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Vocab {
  VocabType type = VocabType::kSpm;
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre as written ("" when absent)
  std::string general_name;

  std::vector<TokenData> tokens;
  StringMap<int32_t> token_to_id;
  StringMap<int32_t> merges;  // merge_key(left, right) -> rank
  SpecialIds special;

  bool add_bos = false;
  bool add_eos = false;
  bool add_sep = false;
  bool add_space_prefix = false;
  bool remove_extra_whitespaces = false;  // read and reported; no supported model uses it
  bool ignore_merges = false;
  bool clean_spaces = false;
  bool escape_whitespaces = false;  // BPE: spaces become U+2581
  bool byte_encode = true;          // BPE: GPT-2 byte-level alphabet
  bool spm_word_split = false;      // SPM: no merge crosses the start of a U+2581 word
  bool lowercase = true;            // WordPiece normaliser
  bool strip_accents = true;        // WordPiece normaliser

  std::vector<int32_t> eog;             // end-of-generation ids, sorted
  std::vector<int32_t> special_tokens;  // control/user-defined/unknown ids, longest text first
  std::vector<int32_t> byte_tokens;     // 256 entries: the token of each byte, or kNoToken
  size_t max_token_len = 0;             // bytes

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  int32_t find(std::string_view text) const {
    auto it = token_to_id.find(text);
    return it == token_to_id.end() ? kNoToken : it->second;
  }
  uint32_t attr(int32_t id) const { return valid(id) ? tokens[id].attr : 0; }
  bool is_eog(int32_t id) const;
  // Rank of merging `left` and `right`, or -1. `key` is scratch space.
  int32_t merge_rank(std::string_view left, std::string_view right, std::string* key) const;
};

// Key under which a merge pair is stored; unambiguous for any texts.
void merge_key(std::string_view left, std::string_view right, std::string* key);

// Reads the vocabulary. Unsupported tokenizer models ("t5", "rwkv", "none", ...) give
// kUnsupported; malformed keys give kCorrupt naming the key.
Result<Vocab> load_vocab(const gguf::File& file);

}  // namespace sov::tokenizer
