#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/log.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace sov::tokenizer {

std::string_view vocab_type_name(VocabType t) {
  switch (t) {
    case VocabType::kSpm: return "SPM";
    case VocabType::kBpe: return "BPE";
    case VocabType::kWordPiece: return "WordPiece";
  }
  return "?";
}

void merge_key(std::string_view left, std::string_view right, std::string* key) {
  // Length-prefixed so that no two different pairs share a key.
  key->clear();
  uint32_t n = static_cast<uint32_t>(left.size());
  key->append(reinterpret_cast<const char*>(&n), sizeof(n));
  key->append(left);
  key->append(right);
}

int32_t Vocab::merge_rank(std::string_view left, std::string_view right, std::string* key) const {
  merge_key(left, right, key);
  auto it = merges.find(*key);
  return it == merges.end() ? -1 : it->second;
}

bool Vocab::is_eog(int32_t id) const {
  return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
}

namespace {

uint32_t attr_of(TokenType t) {
  switch (t) {
    case TokenType::kNormal: return kAttrNormal;
    case TokenType::kUnknown: return kAttrUnknown;
    case TokenType::kControl: return kAttrControl;
    case TokenType::kUserDefined: return kAttrUserDefined;
    case TokenType::kUnused: return kAttrUnused;
    case TokenType::kByte: return kAttrByte;
    case TokenType::kUndefined: return 0;
  }
  return 0;
}

std::string lower_ascii(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads an optional bool key; a present key of another type is an error.
Status read_bool(const gguf::File& f, std::string_view key, bool* out) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return Status::ok();
  auto b = v->as_bool();
  if (!b) return Status::corrupt(std::string(key) + " is not a bool");
  *out = *b;
  return Status::ok();
}

Result<const gguf::Array*> read_array(const gguf::File& f, std::string_view key, bool required) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) {
    if (required) return Status::corrupt("missing " + std::string(key));
    return static_cast<const gguf::Array*>(nullptr);
  }
  const gguf::Array* a = v->as_array();
  if (a == nullptr) return Status::corrupt(std::string(key) + " is not an array");
  return a;
}

struct ModelDefaults {
  VocabType type;
  SpecialIds ids;
  bool add_bos = false, add_eos = false, add_sep = false, add_space_prefix = false, clean_spaces = false;
};

Result<ModelDefaults> defaults_for_model(const std::string& model) {
  ModelDefaults d{};
  if (model == "llama") {
    d.type = VocabType::kSpm;
    d.ids.bos = 1;
    d.ids.eos = 2;
    d.ids.unk = 0;
    d.add_bos = true;
    d.add_space_prefix = true;
  } else if (model == "bert") {
    d.type = VocabType::kWordPiece;
    d.ids.bos = 101;
    d.ids.unk = 100;
    d.ids.sep = 102;
    d.ids.pad = 0;
    d.ids.mask = 103;
    d.add_bos = true;
    d.add_sep = true;
    d.clean_spaces = true;
  } else if (model == "gpt2" || model == "gemma4") {
    d.type = VocabType::kBpe;
    if (model == "gpt2") d.ids.bos = d.ids.eos = 11;  // llama.cpp's historical default
    d.clean_spaces = true;
  } else if (model == "none" || model == "no_vocab") {
    return Status::unsupported("the model has no vocabulary (tokenizer.ggml.model = " + model + ")");
  } else if (model == "t5") {
    return Status::unsupported("Unigram (T5) tokenizers are not supported (tokenizer.ggml.model = t5)");
  } else if (model == "rwkv" || model == "plamo2" || model == "whitespace" || model == "hybriddna") {
    return Status::unsupported("tokenizer.ggml.model = " + model + " is not supported");
  } else {
    return Status::unsupported("unknown tokenizer model '" + model + "' (tokenizer.ggml.model)");
  }
  return d;
}

Status read_tokens(const gguf::File& f, Vocab* v) {
  SOV_ASSIGN_OR_RETURN(const gguf::Array* toks, read_array(f, "tokenizer.ggml.tokens", true));
  if (toks->type != gguf::ValueType::kString)
    return Status::corrupt("tokenizer.ggml.tokens is not a string array");
  const size_t n = toks->items.size();
  if (n == 0) return Status::corrupt("tokenizer.ggml.tokens is empty");
  if (n > static_cast<size_t>(INT32_MAX))
    return Status::corrupt("tokenizer.ggml.tokens has too many entries");

  SOV_ASSIGN_OR_RETURN(const gguf::Array* scores, read_array(f, "tokenizer.ggml.scores", false));
  if (scores != nullptr) {
    if (scores->type != gguf::ValueType::kFloat32 && scores->type != gguf::ValueType::kInt32)
      return Status::corrupt("tokenizer.ggml.scores is not a float32 array");
    if (scores->items.size() < n)
      return Status::corrupt("tokenizer.ggml.scores has " + std::to_string(scores->items.size()) +
                             " entries for " + std::to_string(n) + " tokens");
  }
  SOV_ASSIGN_OR_RETURN(const gguf::Array* types, read_array(f, "tokenizer.ggml.token_type", false));
  if (types != nullptr) {
    if (types->type != gguf::ValueType::kInt32)
      return Status::corrupt("tokenizer.ggml.token_type is not an int32 array");
    if (types->items.size() < n)
      return Status::corrupt("tokenizer.ggml.token_type has " + std::to_string(types->items.size()) +
                             " entries for " + std::to_string(n) + " tokens");
  }

  v->tokens.resize(n);
  v->token_to_id.reserve(n);
  size_t n_dup = 0;
  for (size_t i = 0; i < n; ++i) {
    TokenData& t = v->tokens[i];
    t.text = *toks->items[i].as_string();
    if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
    if (scores != nullptr) t.score = static_cast<float>(scores->items[i].as_double().value_or(0.0));
    if (types != nullptr) {
      int64_t ty = types->items[i].as_int().value_or(0);
      t.type = (ty >= 1 && ty <= 6) ? static_cast<TokenType>(ty) : TokenType::kUndefined;
    }
    t.attr = attr_of(t.type);
    if (!v->token_to_id.emplace(t.text, static_cast<int32_t>(i)).second) ++n_dup;
    v->max_token_len = std::max(v->max_token_len, t.text.size());
  }
  if (n_dup > 0) log::warn("vocabulary has {} duplicate token texts; the first id of each is used", n_dup);
  return Status::ok();
}

Status read_merges(const gguf::File& f, Vocab* v, bool required) {
  SOV_ASSIGN_OR_RETURN(const gguf::Array* merges, read_array(f, "tokenizer.ggml.merges", required));
  if (merges == nullptr) return Status::ok();
  if (merges->type != gguf::ValueType::kString)
    return Status::corrupt("tokenizer.ggml.merges is not a string array");
  v->merges.reserve(merges->items.size());
  std::string key;
  for (size_t i = 0; i < merges->items.size(); ++i) {
    std::string_view m = *merges->items[i].as_string();
    // "left right"; the separator is the first space after the first byte (left may be a space).
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) continue;
    merge_key(m.substr(0, sp), m.substr(sp + 1), &key);
    v->merges.emplace(key, static_cast<int32_t>(i));
  }
  return Status::ok();
}

void read_special_ids(const gguf::File& f, Vocab* v) {
  struct Key {
    const char* name;
    int32_t* id;
  };
  SpecialIds& s = v->special;
  const Key keys[] = {
      {"tokenizer.ggml.bos_token_id", &s.bos},         {"tokenizer.ggml.eos_token_id", &s.eos},
      {"tokenizer.ggml.eot_token_id", &s.eot},         {"tokenizer.ggml.eom_token_id", &s.eom},
      {"tokenizer.ggml.unknown_token_id", &s.unk},     {"tokenizer.ggml.seperator_token_id", &s.sep},
      {"tokenizer.ggml.padding_token_id", &s.pad},     {"tokenizer.ggml.mask_token_id", &s.mask},
      {"tokenizer.ggml.cls_token_id", &s.cls},         {"tokenizer.ggml.fim_pre_token_id", &s.fim_pre},
      {"tokenizer.ggml.fim_suf_token_id", &s.fim_suf}, {"tokenizer.ggml.fim_mid_token_id", &s.fim_mid},
      {"tokenizer.ggml.fim_pad_token_id", &s.fim_pad}, {"tokenizer.ggml.fim_rep_token_id", &s.fim_rep},
      {"tokenizer.ggml.fim_sep_token_id", &s.fim_sep}, {"tokenizer.ggml.prefix_token_id", &s.fim_pre},
      {"tokenizer.ggml.suffix_token_id", &s.fim_suf},  {"tokenizer.ggml.middle_token_id", &s.fim_mid},
  };
  for (const Key& k : keys) {
    if (!v->valid(*k.id)) *k.id = kNoToken;  // a default beyond this vocab
    const gguf::Value* val = f.find(k.name);
    if (val == nullptr) continue;
    auto id = val->as_int();
    if (id && (*id == -1 || *id == 0xFFFFFFFFll)) continue;  // "none", as converters write it
    if (!id || *id < 0 || *id >= v->n_tokens()) {
      log::warn("{} is not a token id of this vocabulary; keeping {}", k.name, *k.id);
      continue;
    }
    *k.id = static_cast<int32_t>(*id);
  }
}

// llama.cpp recognises these by text when the keys do not name them.
void detect_by_text(Vocab* v) {
  auto pick = [&](int32_t* id, std::initializer_list<std::string_view> texts) {
    if (*id != kNoToken) return;
    for (auto t : texts) {
      int32_t found = v->find(t);
      if (found == kNoToken) continue;
      *id = found;
      v->tokens[found].attr |= kAttrControl;
      return;
    }
  };
  SpecialIds& s = v->special;
  pick(&s.eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                "<EOT>", "_<EOT>", "[EOT]",
                "<\xef\xbd\x9c"
                "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                "<end_of_utterance>"});
  pick(&s.eom, {"<|eom_id|>"});
  pick(&s.fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                    "<\xef\xbd\x9c"
                    "fim\xe2\x96\x81"
                    "begin\xef\xbd\x9c>",
                    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"});
  pick(&s.fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                    "<\xef\xbd\x9c"
                    "fim\xe2\x96\x81hole\xef\xbd\x9c>",
                    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"});
  pick(&s.fim_mid, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                    "<\xef\xbd\x9c"
                    "fim\xe2\x96\x81"
                    "end\xef\xbd\x9c>",
                    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"});
  pick(&s.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  pick(&s.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  pick(&s.fim_sep, {"<|file_sep|>"});

  // Control tokens named "unused" are unused.
  for (auto& t : v->tokens) {
    if ((t.attr & kAttrControl) && t.text.find("unused") != std::string::npos) t.attr |= kAttrUnused;
  }
}

void build_eog(Vocab* v) {
  std::vector<int32_t> eog;
  const SpecialIds& s = v->special;
  for (int32_t id : {s.fim_pad, s.fim_rep, s.fim_sep, s.eos, s.eot, s.eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  static const char* const kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<\xef\xbd\x9c"
                                          "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                          "[e~["};
  for (const char* text : kEogTexts) {
    int32_t id = v->find(text);
    if (id == kNoToken) continue;
    eog.push_back(id);
    v->tokens[id].attr |= kAttrControl;
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  auto erase_text = [&](std::string_view text, uint32_t new_attr) {
    int32_t id = v->find(text);
    auto it = std::find(eog.begin(), eog.end(), id);
    if (id == kNoToken || it == eog.end()) return;
    eog.erase(it);
    v->tokens[id].attr = new_attr;
  };
  auto has = [&](std::string_view text) {
    int32_t id = v->find(text);
    return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
  };
  // Harmony-style vocabularies: <|end|> ends a message, not the generation.
  if ((has("<|return|>") && has("<|call|>") && has("<|end|>")) ||
      (has("<|calls|>") && has("<|flush|>") && has("<|end|>"))) {
    erase_text("<|end|>", kAttrUserDefined);
  }
  // Gemma 4: </s> is an ordinary token there.
  if (has("<|tool_response>") && has("</s>")) erase_text("</s>", kAttrNormal);
  v->eog = std::move(eog);
}

void apply_model_fixes(const gguf::File& f, Vocab* v) {
  // gpt-oss: these structure tokens are always rendered.
  for (const char* text : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    int32_t id = v->find(text);
    if (id != kNoToken) v->tokens[id].attr = kAttrUserDefined;
  }
  auto contains_any = [](const std::string& s, std::initializer_list<std::string_view> subs) {
    for (auto sub : subs) {
      if (s.find(sub) != std::string::npos) return true;
    }
    return false;
  };
  std::string name = lower_ascii(v->general_name);
  std::string arch = f.architecture();
  auto set = [&](std::string_view text, uint32_t bit, bool on) {
    int32_t id = v->find(text);
    if (id == kNoToken) return;
    if (on) {
      v->tokens[id].attr |= bit;
    } else {
      v->tokens[id].attr &= ~bit;
    }
  };
  if (contains_any(v->pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
      contains_any(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
    set("<mask>", kAttrLstrip, true);
  } else if (contains_any(name, {"phi-3", "phi3"})) {
    for (int32_t id : v->special_tokens) v->tokens[id].attr |= kAttrRstrip;
    set("</s>", kAttrRstrip, true);
    for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, kAttrRstrip, false);
  } else if (contains_any(name, {"modern-bert"})) {
    set("[MASK]", kAttrLstrip, true);
  }
}

void build_byte_tokens(Vocab* v) {
  v->byte_tokens.assign(256, kNoToken);
  if (v->type == VocabType::kWordPiece) return;
  static const char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    int32_t id = kNoToken;
    if (v->type == VocabType::kBpe && v->byte_encode) {
      id = v->find(unicode::byte_to_utf8(static_cast<uint8_t>(b)));
    } else {
      const char hex[7] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>', 0};
      id = v->find(hex);
      if (id == kNoToken && v->type == VocabType::kSpm) id = v->find(std::string(1, static_cast<char>(b)));
    }
    v->byte_tokens[b] = id;
  }
}

// True when every token a merge can form has its U+2581 characters only in a leading run
// (as SentencePiece's split_by_whitespace guarantees); then no merge crosses a word start.
bool spm_words_are_independent(const Vocab& v) {
  static constexpr std::string_view kMark = "\xe2\x96\x81";
  for (const TokenData& t : v.tokens) {
    if (!(t.attr & (kAttrNormal | kAttrUserDefined))) continue;
    std::string_view s = t.text;
    while (s.substr(0, kMark.size()) == kMark) s.remove_prefix(kMark.size());
    if (s.find(kMark) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

Result<Vocab> load_vocab(const gguf::File& f) {
  Vocab v;
  const gguf::Value* model_value = f.find("tokenizer.ggml.model");
  if (model_value == nullptr)
    return Status::not_found("the file has no tokenizer (no tokenizer.ggml.model key)");
  if (model_value->as_string() == nullptr) return Status::corrupt("tokenizer.ggml.model is not a string");
  v.model = *model_value->as_string();
  if (const gguf::Value* p = f.find("tokenizer.ggml.pre")) {
    if (p->as_string() == nullptr) return Status::corrupt("tokenizer.ggml.pre is not a string");
    v.pre = *p->as_string();
  }
  if (const gguf::Value* n = f.find("general.name"); n && n->as_string()) v.general_name = *n->as_string();

  SOV_ASSIGN_OR_RETURN(ModelDefaults d, defaults_for_model(v.model));
  v.type = d.type;
  v.special = d.ids;
  v.add_bos = d.add_bos;
  v.add_eos = d.add_eos;
  v.add_sep = d.add_sep;
  v.add_space_prefix = d.add_space_prefix;
  v.clean_spaces = d.clean_spaces;

  if (v.type == VocabType::kBpe) {
    if (v.model == "gemma4") v.pre = "gemma4";
    const PreTokenizerSpec* spec = find_pre_tokenizer(v.pre);
    if (v.pre.empty()) {
      log::warn(
          "tokenizer.ggml.pre is missing: using llama.cpp's default pre-tokenizer (quality may suffer)");
    } else if (spec == nullptr) {
      log::warn("unknown pre-tokenizer '{}' (tokenizer.ggml.pre): falling back to the GPT-2 regex", v.pre);
      spec = &gpt2_pre_tokenizer();
    }
    v.ignore_merges = spec->ignore_merges;
    v.add_bos = spec->add_bos;
    v.add_sep = spec->add_sep;
    v.clean_spaces = spec->clean_spaces;
    v.byte_encode = spec->byte_encode;
    v.escape_whitespaces = spec->escape_whitespaces;
    if (spec->no_bos) v.special.bos = kNoToken;
  }
  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_space_prefix", &v.add_space_prefix));
  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.remove_extra_whitespaces", &v.remove_extra_whitespaces));

  SOV_RETURN_IF_ERROR(read_tokens(f, &v));
  if (v.type == VocabType::kBpe) SOV_RETURN_IF_ERROR(read_merges(f, &v, v.pre != "kimi-k2"));

  bool had_bos_key = f.find("tokenizer.ggml.bos_token_id") != nullptr;
  read_special_ids(f, &v);
  if (v.type == VocabType::kWordPiece) {
    // BERT's CLS plays the role of BOS.
    if (!had_bos_key && v.special.cls != kNoToken) v.special.bos = v.special.cls;
    if (v.special.cls == kNoToken) v.special.cls = v.special.bos;
  }

  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_bos_token", &v.add_bos));
  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_eos_token", &v.add_eos));
  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.add_sep_token", &v.add_sep));
  auto check_add = [](bool* add, int32_t id, const char* what) {
    if (*add && id == kNoToken) {
      log::warn("the vocabulary asks to add {} but has no {} token; not adding it", what, what);
      *add = false;
    }
  };
  if (v.type == VocabType::kBpe && v.pre == "gemma4") v.add_bos = true;  // as llama.cpp does
  check_add(&v.add_bos, v.special.bos, "BOS");
  check_add(&v.add_eos, v.special.eos, "EOS");
  check_add(&v.add_sep, v.special.sep, "SEP");
  if (v.type == VocabType::kWordPiece && v.special.unk == kNoToken) {
    return Status::corrupt("WordPiece vocabulary without an unknown token (tokenizer.ggml.unknown_token_id)");
  }

  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.normalizer.lowercase", &v.lowercase));
  v.strip_accents = v.lowercase;
  SOV_RETURN_IF_ERROR(read_bool(f, "tokenizer.ggml.normalizer.strip_accents", &v.strip_accents));

  detect_by_text(&v);
  build_eog(&v);

  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    if (v.tokens[id].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special_tokens.push_back(id);
  }
  apply_model_fixes(f, &v);
  // gpt-oss fixes above can turn a token into a user-defined one; rebuild the list.
  v.special_tokens.clear();
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    if (v.tokens[id].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special_tokens.push_back(id);
  }
  std::stable_sort(v.special_tokens.begin(), v.special_tokens.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].text.size() > v.tokens[b].text.size(); });

  build_byte_tokens(&v);
  if (v.type == VocabType::kSpm) v.spm_word_split = spm_words_are_independent(v);
  if (v.type == VocabType::kSpm) {
    v.special.nl = v.byte_tokens['\n'];
  } else if (v.type == VocabType::kBpe) {
    v.special.nl = v.byte_encode ? v.find(unicode::byte_to_utf8('\n')) : v.find("\n");
    if (v.special.nl == kNoToken) v.special.nl = v.byte_tokens['\n'];
  } else {
    v.special.nl = v.special.pad;
  }
  return v;
}

}  // namespace sov::tokenizer
