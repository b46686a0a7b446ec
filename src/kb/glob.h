// Glob matching with gitignore's rules, used by the ignore-file matcher and the search path
// filter. Pure functions, thread-safe.
//
//   *       any run of characters except '/'
//   ?       one character except '/'
//   [a-z]   a character class ('!' or '^' negates; ranges; ']' first is literal)
//   **      as a whole path segment: zero or more segments ("a/**/b", "**/x", "x/**")
//   \c      the character c literally
//
// Matching is byte-wise (UTF-8 passes through as bytes) and case-sensitive. The cost is
// bounded: the matcher is iterative with one backtrack point per star, so hostile patterns
// cannot blow up.
#pragma once

#include <string_view>

namespace sov::kb {

// Whole-string match of one path segment pattern (no '/' special handling beyond '*' and '?'
// not matching it).
bool glob_match_segment(std::string_view pattern, std::string_view text);

// Whole-path match: `pattern` and `path` are split at '/', "**" segments match any number of
// path segments.
bool glob_match_path(std::string_view pattern, std::string_view path);

// The search filter: a pattern without '/' matches the file name; a pattern starting with
// '/' matches the whole absolute path; any other pattern matches a trailing part of the path
// that starts at a segment boundary ("docs/*.md" matches "/home/me/docs/a.md").
bool path_filter_match(std::string_view pattern, std::string_view path);

}  // namespace sov::kb
