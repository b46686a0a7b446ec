#include "kb/glob.h"

#include <vector>

namespace sov::kb {
namespace {

// Parses a character class at pattern[*i] (just after '['); returns false when the class is
// unterminated (the caller then treats '[' literally). Sets *matched.
bool match_class(std::string_view p, size_t* i, char c, bool* matched) {
  size_t j = *i;
  bool negate = false;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
    negate = true;
    ++j;
  }
  bool found = false;
  bool first = true;
  while (j < p.size() && (p[j] != ']' || first)) {
    first = false;
    char lo = p[j];
    if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
    ++j;
    char hi = lo;
    if (j + 1 < p.size() && p[j] == '-' && p[j + 1] != ']') {
      hi = p[j + 1];
      if (hi == '\\' && j + 2 < p.size()) {
        hi = p[j + 2];
        ++j;
      }
      j += 2;
    }
    if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
        static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi))
      found = true;
  }
  if (j >= p.size()) return false;  // no closing ']'
  *i = j + 1;
  *matched = found != negate;
  return true;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

bool glob_match_segment(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    bool advanced = false;
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star_p = ++pi;
        star_t = ti;
        continue;
      }
      if (pc == '?' && t[ti] != '/') {
        ++pi;
        ++ti;
        advanced = true;
      } else if (pc == '[') {
        size_t k = pi + 1;
        bool matched = false;
        if (match_class(p, &k, t[ti], &matched)) {
          if (matched && t[ti] != '/') {
            pi = k;
            ++ti;
            advanced = true;
          }
        } else if (t[ti] == '[') {
          ++pi;
          ++ti;
          advanced = true;
        }
      } else {
        if (pc == '\\' && pi + 1 < p.size()) pc = p[pi + 1];
        if (pc == t[ti]) {
          pi += p[pi] == '\\' && pi + 1 < p.size() ? 2 : 1;
          ++ti;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    // Backtrack: let the last star swallow one more character (never a '/').
    if (star_p == std::string_view::npos || t[star_t] == '/') return false;
    pi = star_p;
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool glob_match_path(std::string_view pattern, std::string_view path) {
  std::vector<std::string_view> ps = split(pattern), ts = split(path);
  // Segment-level matching with "**" as a star over segments; iterative with one backtrack
  // point, like the byte-level matcher.
  size_t pi = 0, ti = 0;
  size_t star_p = SIZE_MAX, star_t = 0;
  while (ti < ts.size()) {
    if (pi < ps.size() && ps[pi] == "**") {
      star_p = ++pi;
      star_t = ti;
      continue;
    }
    if (pi < ps.size() && glob_match_segment(ps[pi], ts[ti])) {
      ++pi;
      ++ti;
      continue;
    }
    if (star_p == SIZE_MAX) return false;
    pi = star_p;
    ti = ++star_t;
  }
  while (pi < ps.size() && ps[pi] == "**") ++pi;
  return pi == ps.size();
}

bool path_filter_match(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return true;
  if (pattern.find('/') == std::string_view::npos) {
    size_t slash = path.rfind('/');
    return glob_match_segment(pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
  }
  if (pattern.front() == '/')
    return glob_match_path(pattern.substr(1), path.starts_with('/') ? path.substr(1) : path);
  if (glob_match_path(pattern, path)) return true;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && glob_match_path(pattern, path.substr(i + 1))) return true;
  }
  return false;
}

}  // namespace sov::kb
