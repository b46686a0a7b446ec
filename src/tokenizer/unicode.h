// Unicode helpers for the tokenizers: code point decoding that never fails, character
// classes (from utf8proc's tables), lower-casing and canonical decomposition, and the GPT-2
// byte <-> printable-character map used by byte-level BPE vocabularies. Pure functions,
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sov::tokenizer::unicode {

// Decodes UTF-8; each invalid or truncated byte becomes U+FFFD.
std::vector<uint32_t> to_code_points(std::string_view text);

// The White_Space property (what \s means in the tokenizers' regexes).
bool is_whitespace(uint32_t cp);
// General category groups.
bool is_letter(uint32_t cp);           // L*
bool is_number(uint32_t cp);           // N*
bool is_punctuation(uint32_t cp);      // P*
bool is_symbol(uint32_t cp);           // S*
bool is_control(uint32_t cp);          // C* (Cc, Cf, Cs, Co, Cn)
bool is_nonspacing_mark(uint32_t cp);  // Mn

uint32_t to_lower(uint32_t cp);
// Canonical decomposition (NFD) of one code point, appended to *out.
void decompose(uint32_t cp, std::vector<uint32_t>* out);

// GPT-2 byte-level alphabet: every byte maps to one printable code point (as UTF-8).
const std::string& byte_to_utf8(uint8_t byte);
// The byte a byte-level code point stands for, or -1 when it is not in the alphabet.
int utf8_to_byte(uint32_t cp);

}  // namespace sov::tokenizer::unicode
