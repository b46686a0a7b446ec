#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>

#include "base/utf8.h"

namespace sov::tokenizer::unicode {

std::vector<uint32_t> to_code_points(std::string_view text) {
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) cps.push_back(utf8::decode(text, &pos));
  return cps;
}

bool is_whitespace(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {
utf8proc_category_t category(uint32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}
}  // namespace

bool is_letter(uint32_t cp) {
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}
bool is_number(uint32_t cp) {
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}
bool is_punctuation(uint32_t cp) {
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}
bool is_symbol(uint32_t cp) {
  auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO;
}
bool is_control(uint32_t cp) {
  auto c = category(cp);
  return c == UTF8PROC_CATEGORY_CN || (c >= UTF8PROC_CATEGORY_CC && c <= UTF8PROC_CATEGORY_CO);
}
bool is_nonspacing_mark(uint32_t cp) {
  return category(cp) == UTF8PROC_CATEGORY_MN;
}

uint32_t to_lower(uint32_t cp) {
  if (cp > 0x10FFFF) return cp;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

void decompose(uint32_t cp, std::vector<uint32_t>* out) {
  // A canonical decomposition is at most 4 code points (Hangul: 3); 8 leaves room.
  utf8proc_int32_t buf[8];
  int last_boundclass = 0;
  auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 8, UTF8PROC_DECOMPOSE,
                                   &last_boundclass);
  if (n <= 0 || n > 8) {
    out->push_back(cp);
    return;
  }
  for (int i = 0; i < n; ++i) out->push_back(static_cast<uint32_t>(buf[i]));
}

namespace {
// Printable bytes stand for themselves; the other 68 map to U+0100.. in byte order.
struct ByteTables {
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 324> from_cp;  // code points 0..323 cover the whole alphabet
  ByteTables() {
    from_cp.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      int cp = printable ? b : next++;
      std::string s;
      utf8::append(&s, static_cast<uint32_t>(cp));
      to_utf8[b] = s;
      from_cp[cp] = static_cast<int16_t>(b);
    }
  }
};
const ByteTables& byte_tables() {
  static const ByteTables tables;
  return tables;
}
}  // namespace

const std::string& byte_to_utf8(uint8_t byte) {
  return byte_tables().to_utf8[byte];
}

int utf8_to_byte(uint32_t cp) {
  if (cp >= byte_tables().from_cp.size()) return -1;
  return byte_tables().from_cp[cp];
}

}  // namespace sov::tokenizer::unicode
