#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <atomic>
#include <map>

#include "base/log.h"

namespace sov::tokenizer {
namespace {

// --- Regexes (tokenizer.json originals where llama.cpp had to rewrite them) ---

// GPT-2: contractions, letters, numbers, other, trailing whitespace, whitespace.
constexpr const char* kGpt2 =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
// As llama.cpp writes it (no final \s+; the split result is the same).
constexpr const char* kGpt2NoWs =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))re";
constexpr const char* kLlama3 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kQwen2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kQwen35 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kJais2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})re";
constexpr const char* kTekken =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kGpt4o =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kKimiK2 =
    R"re(\p{Han}+|[^\r\n\p{L}\p{N}]?(?:(?!\p{Han})[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])*(?:(?!\p{Han})[\p{Ll}\p{Lm}\p{Lo}\p{M}])+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?(?:(?!\p{Han})[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}])+(?:(?!\p{Han})[\p{Ll}\p{Lm}\p{Lo}\p{M}])*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kBailingMoe =
    R"re('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)re";
constexpr const char* kSeedCoder =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kUfakzeka =
    R"re([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kExaoneMoe =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)re";
constexpr const char* kMiniCpm5 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kYoutuWords =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kYoutuCjk =
    R"re([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+|[\x{3105}-\x{312F}]+|[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
constexpr const char* kDeepseekV3Words =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr const char* kSpark25Words =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)re";
constexpr const char* kCjkKana = R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
constexpr const char* kCjkHangul = R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";
constexpr const char* kDeepseekLlmLetters =
    R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)re";
constexpr const char* kDeepseekLlmPunct =
    R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re";
constexpr const char* kNoBreakPunct =
    R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re";
// Digits grouped from the right: a run of n digits gives n % 3 leading digits, then threes.
constexpr const char* kDigitsFromRight = R"re(\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N})))re";
constexpr const char* kAfmoeCjk =
    R"re([\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{F900}-\x{FAFF}\x{3040}-\x{309F}\x{30A0}-\x{30FF}\x{FF65}-\x{FF9F}\x{2F00}-\x{2FDF}\x{0E00}-\x{0E7F}\x{0E80}-\x{0EFF}\x{1780}-\x{17FF}\x{1000}-\x{109F}\x{AA60}-\x{AA7F}\x{A9E0}-\x{A9FF}\x{AC00}-\x{D7AF}\x{1100}-\x{11FF}]+)re";

PreTokenizerSpec make(std::string_view name, std::vector<std::string> patterns) {
  PreTokenizerSpec s;
  s.name = name;
  s.patterns = std::move(patterns);
  return s;
}

struct Table {
  std::map<std::string, PreTokenizerSpec, std::less<>> by_name;
  PreTokenizerSpec gpt2;

  void add(std::initializer_list<std::string_view> names, const PreTokenizerSpec& spec) {
    for (auto n : names) by_name.emplace(std::string(n), spec);
  }

  Table() {
    gpt2 = make("gpt-2", {kGpt2});
    auto spec = [](std::string_view name, std::vector<std::string> p, auto&& tweak) {
      PreTokenizerSpec s = make(name, std::move(p));
      tweak(s);
      return s;
    };
    auto none = [](PreTokenizerSpec&) {};
    auto no_clean = [](PreTokenizerSpec& s) { s.clean_spaces = false; };

    add({"", "default"},
        make("default", {R"re([\p{P}\$\+<=>\^~\|]+)re", kGpt2NoWs, R"re(\p{N}+)re", "[0-9][0-9][0-9]"}));
    add({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
         "modern-bert", "mpt", "olmo", "jais", "exaone4"},
        gpt2);
    add({"trillion", "granite-docling"}, spec("gpt-2", {kGpt2}, no_clean));
    add({"jina-v1-en", "jina-v2-code", "roberta-bpe"},
        spec("gpt-2", {kGpt2}, [](PreTokenizerSpec& s) { s.add_sep = true; }));
    add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
         "jina-v5-nano"},
        spec("llama3", {kLlama3}, [](PreTokenizerSpec& s) {
          s.ignore_merges = true;
          s.add_bos = true;
        }));
    add({"dbrx", "smaug-bpe"}, spec("llama3", {kLlama3}, none));
    add({"glm4", "chatglm-bpe"}, spec("chatglm4", {kLlama3}, [](PreTokenizerSpec& s) { s.no_bos = true; }));
    add({"jais-2"}, make("jais-2", {kJais2}));
    add({"deepseek-llm"}, spec("deepseek-llm",
                               {R"re([\r\n])re", kDeepseekLlmLetters, kDeepseekLlmPunct, R"re(\s+$)re",
                                kCjkHangul, R"re(\p{N}+)re"},
                               no_clean));
    add({"deepseek-coder"},
        spec("deepseek-coder",
             {R"re([\r\n])re", R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kCjkHangul, R"re(\p{N})re"},
             no_clean));
    add({"deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm"},
        spec("deepseek-v3", {R"re(\p{N}{1,3})re", kCjkKana, kDeepseekV3Words}, no_clean));
    add({"spark2_5"},
        spec("spark2_5", {R"re(\p{N}{1,3})re", kCjkKana, kSpark25Words, R"re(\p{N})re"}, no_clean));
    add({"youtu"}, spec("youtu", {kYoutuCjk, kYoutuWords}, [](PreTokenizerSpec& s) {
          s.clean_spaces = false;
          s.ignore_merges = true;
        }));
    add({"falcon"}, make("falcon", {R"re([\p{P}\$\+<=>\^~\|`]+)re", kGpt2NoWs, "[0-9][0-9][0-9]"}));
    add({"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"},
        make("starcoder", {R"re(\p{N})re", kGpt2NoWs}));
    add({"command-r", "smollm"}, spec("starcoder", {R"re(\p{N})re", kGpt2NoWs}, no_clean));
    add({"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"},
        spec("qwen2", {kQwen2}, no_clean));
    add({"stablelm2", "megrez"}, make("qwen2", {kQwen2}));
    add({"qwen35"}, spec("qwen35", {kQwen35}, no_clean));
    add({"poro-chat"}, spec("poro", {kNoBreakPunct}, no_clean));
    add({"bloom", "gpt3-finnish"}, make("bloom", {kNoBreakPunct}));
    add({"viking"}, spec("viking", {kNoBreakPunct, R"re(\p{N})re"}, no_clean));
    add({"tekken"}, spec("tekken", {kTekken}, [](PreTokenizerSpec& s) {
          s.clean_spaces = false;
          s.ignore_merges = true;
          s.add_bos = true;
        }));
    add({"chameleon"},
        spec("chameleon",
             {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", R"re(([\t\n]|    |  ))re",
              R"re(\p{N})re", R"re([\p{P}!-/:-@\[-`{-~])re", kGpt2NoWs},
             [](PreTokenizerSpec& s) {
               s.clean_spaces = false;
               s.add_bos = true;
             }));
    add({"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, spec("gpt-4o", {kGpt4o}, no_clean));
    add({"granite-embed-multi-97m"}, spec("gpt-4o", {kGpt4o}, [](PreTokenizerSpec& s) {
          s.clean_spaces = false;
          s.ignore_merges = true;
        }));
    add({"tiny_aya", "cohere2moe"}, spec("tiny_aya", {R"re(\d{1,3}(?=(?:\d{3})*\b))re", kGpt4o}, no_clean));
    add({"kimi-k2"}, spec("kimi-k2", {kKimiK2}, no_clean));
    add({"superbpe"}, spec("superbpe", {R"re(\p{N}+)re", R"re((?=(\d{3})+(?!\d)))re"}, no_clean));
    add({"bailingmoe", "bailingmoe2", "llada-moe"}, spec("bailingmoe", {kBailingMoe}, no_clean));
    add({"seed-coder"}, spec("seed-coder", {kSeedCoder}, no_clean));
    add({"ufakzeka"}, spec("ufakzeka", {kUfakzeka}, no_clean));
    add({"afmoe"}, spec("afmoe", {kDigitsFromRight, kAfmoeCjk, kDeepseekV3Words}, no_clean));
    add({"laguna"}, spec("laguna", {R"re([^\n]+|[\n]+)re", kQwen2}, no_clean));
    add({"exaone-moe"}, make("exaone-moe", {kExaoneMoe}));
    add({"minicpm5"}, spec("minicpm5", {R"re(\p{N}{1,3})re", kMiniCpm5},
                           [](PreTokenizerSpec& s) { s.ignore_merges = true; }));
    // SPM-style BPE on raw UTF-8: spaces become U+2581, only newlines split words.
    auto spm_style = [](PreTokenizerSpec& s) {
      s.byte_encode = false;
      s.escape_whitespaces = true;
    };
    add({"gemma4", "granite-embed-multi-311m"}, spec("gemma4", {R"re([^\n]+|[\n]+)re"}, spm_style));
    add({"sarvam-moe"}, spec("gemma4", {R"re([^\n]+|[\n]+)re"}, [&](PreTokenizerSpec& s) {
          spm_style(s);
          s.clean_spaces = false;
        }));
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const PreTokenizerSpec* find_pre_tokenizer(std::string_view name) {
  auto it = table().by_name.find(name);
  return it == table().by_name.end() ? nullptr : &it->second;
}

const PreTokenizerSpec& gpt2_pre_tokenizer() {
  return table().gpt2;
}

std::vector<std::string_view> known_pre_tokenizer_names() {
  std::vector<std::string_view> names;
  for (const auto& [name, spec] : table().by_name) names.push_back(name);
  return names;
}

// --- RegexSplitter ---

struct RegexSplitter::Impl {
  std::vector<pcre2_code*> codes;
  std::vector<std::string> sources;
  ~Impl() {
    for (auto* c : codes) pcre2_code_free(c);
  }
};

RegexSplitter::~RegexSplitter() = default;

Result<std::shared_ptr<const RegexSplitter>> RegexSplitter::compile(
    const std::vector<std::string>& patterns) {
  std::shared_ptr<RegexSplitter> splitter(new RegexSplitter());
  splitter->impl_ = std::make_unique<Impl>();
  for (const auto& p : patterns) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_off, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Status::internal("pre-tokenizer regex /" + p + "/ does not compile at offset " +
                              std::to_string(err_off) + ": " + reinterpret_cast<const char*>(msg));
    }
    // JIT is an optimisation only: the interpreter gives the same matches.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    splitter->impl_->codes.push_back(code);
    splitter->impl_->sources.push_back(p);
  }
  return std::shared_ptr<const RegexSplitter>(std::move(splitter));
}

namespace {
size_t next_char(std::string_view s, size_t pos) {
  ++pos;
  while (pos < s.size() && (static_cast<uint8_t>(s[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

struct MatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchState() {
    md = pcre2_match_data_create(1, nullptr);
    mc = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    if (mc && stack) pcre2_jit_stack_assign(mc, nullptr, stack);
    // Bounds the work on hostile input (e.g. \s+$ over a long run of spaces).
    pcre2_set_match_limit(mc, 50'000'000);
  }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
  }
};

std::atomic<bool> g_warned_limit{false};

// Splits `piece` with one regex, appending [gap][match]... as (offset, length) into `out`.
void split_one(pcre2_code* code, const std::string& source, std::string_view text, size_t begin, size_t len,
               MatchState& st, std::vector<std::pair<size_t, size_t>>* out) {
  std::string_view subject = text.substr(begin, len);
  auto* subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t last_end = 0;
  size_t pos = 0;
  uint32_t options = 0;
  auto emit = [&](size_t a, size_t b) {
    if (b > a) out->emplace_back(begin + a, b - a);
  };
  while (pos <= len) {
    int rc = pcre2_match(code, subj, len, pos, options | PCRE2_NO_UTF_CHECK, st.md, st.mc);
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (options == 0) break;
      // The retry after an empty match found nothing non-empty here: move on one character.
      options = 0;
      if (pos >= len) break;
      pos = next_char(subject, pos);
      continue;
    }
    if (rc < 0) {
      if (!g_warned_limit.exchange(true)) {
        log::warn("pre-tokenizer regex /{}/ gave up on a {}-byte piece (PCRE2 error {}); left unsplit",
                  source, len, rc);
      }
      break;
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
    size_t ms = ov[0], me = ov[1];
    emit(last_end, ms);
    emit(ms, me);
    last_end = me;
    pos = me;
    // After an empty match, look for a non-empty one at the same place first (Perl semantics).
    options = (me == ms) ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
  emit(last_end, len);
}
}  // namespace

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>* out) const {
  if (text.empty()) return;
  // Match data and the JIT stack are per thread and reused: creating them per call costs
  // more than matching a short fragment.
  thread_local MatchState st;
  std::vector<std::pair<size_t, size_t>> cur{{0, text.size()}}, next;
  for (size_t i = 0; i < impl_->codes.size(); ++i) {
    next.clear();
    next.reserve(cur.size() * 2);
    for (auto [b, n] : cur) split_one(impl_->codes[i], impl_->sources[i], text, b, n, st, &next);
    cur.swap(next);
  }
  out->reserve(out->size() + cur.size());
  for (auto [b, n] : cur) out->push_back(text.substr(b, n));
}

}  // namespace sov::tokenizer
