// Python str semantics on UTF-8 text for the Jinja interpreter: code-point decoding,
// whitespace and case classes, case mapping, strip/split/splitlines.
//
// Case mapping covers the scripts chat content realistically uses (Latin, Greek, Cyrillic,
// Armenian, full-width Latin); other code points are left unchanged. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sov::chat::jinja::text {

std::u32string decode(std::string_view s);
std::string encode(std::u32string_view s);
void append_utf8(std::string* out, char32_t cp);
bool is_ascii(std::string_view s);
// Number of code points.
size_t length(std::string_view s);

bool is_space(char32_t c);      // Python str.isspace
bool is_printable(char32_t c);  // Python str.isprintable (approximate outside common ranges)
bool is_alpha(char32_t c);
bool is_digit(char32_t c);
bool is_cased(char32_t c);
bool is_upper(char32_t c);
bool is_lower(char32_t c);
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string swapcase(std::string_view s);
std::string title(std::string_view s);       // Python str.title
std::string capitalize(std::string_view s);  // Python str.capitalize

// Python strip/lstrip/rstrip: `chars` empty optional means whitespace.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// Python str.split / rsplit: no separator splits on whitespace runs. maxsplit < 0: unlimited.
// Throws ValueError for an empty separator.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit);
// Python str.splitlines.
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// Python str.replace (count < 0: all).
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);

}  // namespace sov::chat::jinja::text
