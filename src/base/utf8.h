// UTF-8 helpers shared by the GGUF reader, tokenizers and the server. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sov::utf8 {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid(std::string_view s);
// Length in bytes of the sequence that starts with `lead`, or 0 if `lead` cannot start one.
size_t sequence_length(uint8_t lead);
// Number of bytes at the end of `s` that form an incomplete (but so far valid) sequence.
size_t incomplete_tail(std::string_view s);
// Decodes one code point at s[*pos], advancing *pos; invalid bytes yield U+FFFD and advance 1.
uint32_t decode(std::string_view s, size_t* pos);
// Appends the UTF-8 encoding of `cp` (U+FFFD for invalid code points).
void append(std::string* out, uint32_t cp);
// Replaces every invalid byte with U+FFFD.
std::string sanitize(std::string_view s);

}  // namespace sov::utf8
