#include "chat/jinja_text.h"

#include "base/utf8.h"
#include "chat/jinja_error.h"

namespace sov::chat::jinja::text {

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      out.push_back(c);
      ++pos;
    } else {
      out.push_back(utf8::decode(s, &pos));
    }
  }
  return out;
}

void append_utf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else {
    utf8::append(out, cp);
  }
}

std::string encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(&out, c);
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

size_t length(std::string_view s) {
  size_t n = 0;
  // Count every byte that is not a UTF-8 continuation byte.
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_space(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_printable(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
  if (c < 0x600) return true;
  if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E) return false;
  if (c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F)) return false;
  if ((c >= 0x205F && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0x3000) return false;
  if ((c >= 0xD800 && c <= 0xF8FF) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB)) return false;
  if (c >= 0xE0000) return false;  // tags, variation selectors supplement excluded, private use
  return true;
}

namespace {

// A range [lo, hi] whose upper-case letters sit at `lo + k` and lower-case at `lo + k + delta`
// (delta > 1), or alternate upper/lower pairs (delta == 1, upper at even offset from lo).
struct CaseRange {
  char32_t lo, hi;
  int delta;
};

// Upper-case code point ranges, with the offset to the lower-case letter.
constexpr CaseRange kUpperRanges[] = {
    {0x41, 0x5A, 32},   {0xC0, 0xD6, 32},   {0xD8, 0xDE, 32},   {0x391, 0x3A1, 32},   {0x3A3, 0x3AB, 32},
    {0x410, 0x42F, 32}, {0x400, 0x40F, 80}, {0x531, 0x556, 48}, {0xFF21, 0xFF3A, 32}, {0x388, 0x38A, 37},
    {0x386, 0x386, 38}, {0x38C, 0x38C, 64}, {0x38E, 0x38F, 63},
};

// Alternating pairs: upper at even offsets from `lo` (lo is upper), lower right after it.
struct PairRange {
  char32_t lo, hi;
};
constexpr PairRange kPairRanges[] = {
    {0x100, 0x12F}, {0x132, 0x137}, {0x14A, 0x177},   {0x182, 0x185},   {0x1A0, 0x1A5},
    {0x1DE, 0x1EF}, {0x1F8, 0x21F}, {0x222, 0x233},   {0x3D8, 0x3EF},   {0x460, 0x481},
    {0x48A, 0x4BF}, {0x4D0, 0x52F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF},
};
// Alternating pairs where the upper letter sits at odd offsets (lo is upper, lo+1 lower).
constexpr PairRange kOddPairRanges[] = {{0x139, 0x148}, {0x179, 0x17E}, {0x4C1, 0x4CE}};

}  // namespace

char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  for (const auto& r : kUpperRanges) {
    if (c >= r.lo && c <= r.hi) return c + r.delta;
  }
  for (const auto& r : kPairRanges) {
    if (c >= r.lo && c <= r.hi) return ((c - r.lo) % 2 == 0) ? c + 1 : c;
  }
  for (const auto& r : kOddPairRanges) {
    if (c >= r.lo && c <= r.hi) return ((c - r.lo) % 2 == 0) ? c + 1 : c;
  }
  if (c == 0x178) return 0xFF;
  if (c == 0x130) return 'i';
  return c;
}

char32_t to_upper(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  for (const auto& r : kUpperRanges) {
    if (c >= r.lo + r.delta && c <= r.hi + r.delta) return c - r.delta;
  }
  for (const auto& r : kPairRanges) {
    if (c >= r.lo && c <= r.hi) return ((c - r.lo) % 2 == 1) ? c - 1 : c;
  }
  for (const auto& r : kOddPairRanges) {
    if (c >= r.lo && c <= r.hi) return ((c - r.lo) % 2 == 1) ? c - 1 : c;
  }
  switch (c) {
    case 0xFF: return 0x178;
    case 0xB5: return 0x39C;
    case 0x131: return 'I';
    case 0x17F: return 'S';
    case 0x3C2: return 0x3A3;
    default: return c;
  }
}

bool is_upper(char32_t c) {
  return to_lower(c) != c || c == 0x130;
}
bool is_lower(char32_t c) {
  return to_upper(c) != c || c == 0xDF;
}
bool is_cased(char32_t c) {
  return is_upper(c) || is_lower(c);
}

bool is_digit(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 0x660 && c <= 0x669) || (c >= 0xFF10 && c <= 0xFF19);
}

bool is_alpha(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (is_cased(c) || c == 0xAA || c == 0xBA) return true;
  return (c >= 0x5D0 && c <= 0x5EA) || (c >= 0x620 && c <= 0x64A) || (c >= 0x904 && c <= 0x939) ||
         (c >= 0xE01 && c <= 0xE30) || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30A1 && c <= 0x30FA) ||
         (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) ||
         (c >= 0x1D400 && c <= 0x1D7CB);
}

namespace {
void append_upper(std::string* out, char32_t c) {
  if (c == 0xDF) {  // ß -> SS, as Python does
    out->append("SS");
  } else {
    append_utf8(out, to_upper(c));
  }
}
}  // namespace

std::string upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : decode(s)) append_upper(&out, c);
  return out;
}

std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : decode(s)) append_utf8(&out, to_lower(c));
  return out;
}

std::string swapcase(std::string_view s) {
  std::string out;
  for (char32_t c : decode(s)) {
    if (is_upper(c)) {
      append_utf8(&out, to_lower(c));
    } else if (is_lower(c)) {
      append_upper(&out, c);
    } else {
      append_utf8(&out, c);
    }
  }
  return out;
}

std::string title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (char32_t c : decode(s)) {
    if (prev_cased) {
      append_utf8(&out, to_lower(c));
    } else {
      append_upper(&out, c);
    }
    prev_cased = is_cased(c);
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (char32_t c : decode(s)) {
    if (first) {
      append_upper(&out, c);
      first = false;
    } else {
      append_utf8(&out, to_lower(c));
    }
  }
  return out;
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::u32string cps = decode(s);
  std::u32string set = chars ? decode(*chars) : std::u32string();
  auto strippable = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : is_space(c); };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strippable(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strippable(cps[e - 1])) --e;
  }
  return encode(std::u32string_view(cps).substr(b, e - b));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) throw_value_error("empty separator");
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      size_t hit = s.find(*sep, pos);
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, hit - pos));
      pos = hit + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  std::u32string cps = decode(s);
  size_t i = 0, n = cps.size();
  while (true) {
    while (i < n && is_space(cps[i])) ++i;
    if (i >= n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.push_back(encode(std::u32string_view(cps).substr(i)));  // the rest, as Python keeps it
      break;
    }
    size_t j = i;
    while (j < n && !is_space(cps[j])) ++j;
    out.push_back(encode(std::u32string_view(cps).substr(i, j - i)));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) throw_value_error("empty separator");
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      if (end < sep->size()) break;
      size_t hit = s.rfind(*sep, end - sep->size());
      if (hit == std::string_view::npos) break;
      out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
      end = hit;
    }
    out.emplace_back(s.substr(0, end));
    return {out.rbegin(), out.rend()};
  }
  std::u32string cps = decode(s);
  size_t e = cps.size();
  while (true) {
    while (e > 0 && is_space(cps[e - 1])) --e;
    if (e == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.push_back(encode(std::u32string_view(cps).substr(0, e)));
      break;
    }
    size_t b = e;
    while (b > 0 && !is_space(cps[b - 1])) --b;
    out.push_back(encode(std::u32string_view(cps).substr(b, e - b)));
    e = b;
  }
  return {out.rbegin(), out.rend()};
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  std::u32string cps = decode(s);
  size_t start = 0, i = 0, n = cps.size();
  while (i < n) {
    char32_t c = cps[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
               c == 0x2028 || c == 0x2029;
    if (!brk) {
      ++i;
      continue;
    }
    size_t eol = i + 1;
    if (c == '\r' && eol < n && cps[eol] == '\n') ++eol;
    out.push_back(encode(std::u32string_view(cps).substr(start, (keepends ? eol : i) - start)));
    start = i = eol;
  }
  if (start < n) out.push_back(encode(std::u32string_view(cps).substr(start)));
  return out;
}

std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `repl` before every code point and at the end.
    std::u32string cps = decode(s);
    int64_t done = 0;
    for (char32_t c : cps) {
      if (count < 0 || done < count) {
        out.append(repl);
        ++done;
      }
      append_utf8(&out, c);
    }
    if (count < 0 || done < count) out.append(repl);
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(repl);
    pos = hit + old.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace sov::chat::jinja::text
