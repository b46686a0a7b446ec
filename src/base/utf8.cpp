#include "base/utf8.h"

namespace sov::utf8 {

size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

namespace {
// Validates the sequence at s[pos] of length `len` (bytes present); returns the code point or
// -1 when invalid, -2 when valid so far but cut short.
int64_t check(std::string_view s, size_t pos, size_t* len_out) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(s[pos + i]); };
  size_t len = sequence_length(b(0));
  *len_out = len;
  if (len == 0) return -1;
  if (len == 1) return b(0);
  uint32_t cp = b(0) & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    if (pos + i >= s.size()) return -2;
    uint8_t c = b(i);
    if ((c & 0xC0) != 0x80) return -1;
    // Second-byte ranges that exclude overlongs, surrogates and > U+10FFFF.
    if (i == 1) {
      if (b(0) == 0xE0 && c < 0xA0) return -1;
      if (b(0) == 0xED && c > 0x9F) return -1;
      if (b(0) == 0xF0 && c < 0x90) return -1;
      if (b(0) == 0xF4 && c > 0x8F) return -1;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  return cp;
}
}  // namespace

bool is_valid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<uint8_t>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t len;
    if (check(s, pos, &len) < 0) return false;
    pos += len;
  }
  return true;
}

size_t incomplete_tail(std::string_view s) {
  // A sequence is at most 4 bytes, so only the last 3 can be an unfinished one.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    size_t pos = s.size() - back;
    uint8_t c = static_cast<uint8_t>(s[pos]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t len;
    return check(s, pos, &len) == -2 ? back : 0;
  }
  return 0;
}

uint32_t decode(std::string_view s, size_t* pos) {
  size_t len;
  int64_t cp = check(s, *pos, &len);
  if (cp < 0) {
    *pos += 1;
    return 0xFFFD;
  }
  *pos += len;
  return static_cast<uint32_t>(cp);
}

void append(std::string* out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = decode(s, &pos);
    if (cp == 0xFFFD && !(pos - start == 3 && s.substr(start, 3) == "\xEF\xBF\xBD")) {
      append(&out, 0xFFFD);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace sov::utf8
