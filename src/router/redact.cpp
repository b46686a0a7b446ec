#include "router/redact.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <algorithm>

namespace sov::router {
namespace {

struct Builtin {
  const char* kind;
  const char* group;  // the config name enabling it
  const char* pattern;
};

// Secrets first, so that an e-mail-like or digit-rich part of a key is not split up.
constexpr Builtin kBuiltins[] = {
    {"secret", "secret", R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)"},
    {"secret", "secret", R"((?i)\bbearer\s+([A-Za-z0-9._~+/=-]{12,}))"},
    {"secret", "secret", R"(\bsk-[A-Za-z0-9_-]{16,})"},
    {"secret", "secret", R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)"},
    {"secret", "secret", R"(\bgh[pousr]_[A-Za-z0-9]{30,})"},
    {"secret", "secret", R"(\bgithub_pat_[A-Za-z0-9_]{22,})"},
    {"secret", "secret", R"(\bxox[abprs]-[A-Za-z0-9-]{10,})"},
    {"secret", "secret", R"(\bAIza[0-9A-Za-z_-]{35})"},
    {"secret", "secret", R"(\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"},
    {"email", "email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"},
    // Phone numbers: an optional +country code, then groups of digits separated by spaces,
    // dots, dashes or a parenthesised area code; 7 to 15 digits in all (checked below).
    {"phone", "phone",
     R"((?<![\w+@.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w@]|[.-]\d))"},
};

int count_digits(std::string_view s) {
  return static_cast<int>(std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// Digits that look like a date, a version or a plain number rather than a phone number.
bool plausible_phone(std::string_view s) {
  const int digits = count_digits(s);
  if (digits < 7 || digits > 15) return false;
  const bool has_sep = s.find_first_of(" .-()") != std::string_view::npos;
  if (!has_sep && s[0] != '+') return false;  // a bare run of digits is more likely an id
  // 2024-01-15 or 2024.01.15
  if (s.size() == 10 && (s[4] == '-' || s[4] == '.') && s[7] == s[4] && digits == 8) return false;
  return true;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '-') c = '_';
  }
  return s;
}

// True when position `pos` lies inside an existing placeholder «...».
bool inside_placeholder(std::string_view text, size_t pos) {
  const size_t from = pos > 48 ? pos - 48 : 0;
  std::string_view before = text.substr(from, pos - from);
  const size_t open = before.rfind(kOpen);
  if (open == std::string_view::npos) return false;
  return before.find(kClose, open) == std::string_view::npos;
}

}  // namespace

struct Redactor::Pattern {
  std::string kind;
  bool phone = false;
  pcre2_code* code = nullptr;
  ~Pattern() {
    if (code) pcre2_code_free(code);
  }
};

Redactor::~Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;

Result<Redactor> Redactor::create(const RedactionConfig& config) {
  Redactor r;
  if (!config.enabled) return r;
  auto compile = [&](const std::string& kind, const std::string& pattern, bool phone) -> Status {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return Status::invalid_argument(fmt::format("redaction \"{}\": invalid regex at offset {}: {}", kind,
                                                  offset, reinterpret_cast<const char*>(msg)));
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
    auto p = std::make_unique<Pattern>();
    p->kind = kind;
    p->phone = phone;
    p->code = code;
    r.patterns_.push_back(std::move(p));
    return Status::ok();
  };
  for (const auto& b : kBuiltins) {
    if (std::find(config.builtin.begin(), config.builtin.end(), b.group) == config.builtin.end()) continue;
    SOV_RETURN_IF_ERROR(compile(b.kind, b.pattern, std::string_view(b.kind) == "phone"));
  }
  for (const auto& c : config.custom) SOV_RETURN_IF_ERROR(compile(c.name, c.pattern, false));
  return r;
}

void Redactor::redact(std::string* text, Redaction* state) const {
  for (const auto& p : patterns_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(p->code, nullptr);
    std::string out;
    size_t pos = 0, copied = 0;
    const std::string& s = *text;
    bool changed = false;
    while (pos <= s.size()) {
      const int rc =
          pcre2_match(p->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, 0, md, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      size_t start = ov[0], end = ov[1];
      if (rc >= 2 && ov[2] != PCRE2_UNSET) {  // group 1: the part to replace
        start = ov[2];
        end = ov[3];
      }
      if (end <= start) {
        pos = std::max<size_t>(ov[1], pos) + 1;
        continue;
      }
      const std::string_view value(s.data() + start, end - start);
      if (inside_placeholder(s, start) || (p->phone && !plausible_phone(value))) {
        pos = ov[1] > pos ? ov[1] : pos + 1;
        continue;
      }
      out.append(s, copied, start - copied);
      out += state->placeholder_for(p->kind, std::string(value));
      copied = end;
      changed = true;
      pos = ov[1] > pos ? ov[1] : pos + 1;
    }
    pcre2_match_data_free(md);
    if (changed) {
      out.append(s, copied, std::string::npos);
      *text = std::move(out);
    }
  }
}

std::string Redaction::placeholder_for(const std::string& kind, const std::string& value) {
  ++counts_[kind];
  std::string key = kind;
  key += '\0';
  key += value;
  auto it = by_value_.find(key);
  if (it != by_value_.end()) return it->second;
  std::string ph = fmt::format("{}{}_{}{}", kOpen, upper(kind), ++next_[kind], kClose);
  by_value_.emplace(std::move(key), ph);
  values_.emplace(ph, value);
  return ph;
}

int Redaction::total() const {
  int n = 0;
  for (const auto& [k, c] : counts_) n += c;
  return n;
}

std::string Redaction::restore(std::string_view text) const {
  if (values_.empty()) return std::string(text);
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) break;
    const std::string ph(text.substr(open, close + kClose.size() - open));
    auto it = values_.find(ph);
    out.append(text.substr(pos, open - pos));
    if (it != values_.end()) {
      out += it->second;
      pos = close + kClose.size();
    } else {
      out.append(kOpen);
      pos = open + kOpen.size();
    }
  }
  out.append(text.substr(pos));
  return out;
}

std::string StreamRestorer::push(std::string_view chunk) {
  pending_.append(chunk);
  // Hold back from the last «, if no » follows it (a placeholder may continue in the next
  // chunk), or a lone first byte of « at the very end. Placeholders are short, so a «
  // further back than 64 bytes without a » is plain text.
  size_t keep_from = pending_.size();
  const size_t open = pending_.rfind(kOpen);
  if (open != std::string::npos && pending_.find(kClose, open) == std::string::npos &&
      pending_.size() - open < 64) {
    keep_from = open;
  } else if (!pending_.empty() && pending_.back() == kOpen[0]) {
    keep_from = pending_.size() - 1;
  }
  std::string ready = state_->restore(std::string_view(pending_).substr(0, keep_from));
  pending_.erase(0, keep_from);
  return ready;
}

std::string StreamRestorer::flush() {
  std::string rest = state_->restore(pending_);
  pending_.clear();
  return rest;
}

}  // namespace sov::router
