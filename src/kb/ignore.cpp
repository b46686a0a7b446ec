#include "kb/ignore.h"

#include "kb/glob.h"

namespace sov::kb {
namespace {

constexpr size_t kMaxLine = 4096;

// Drops trailing spaces unless the last one is escaped with a backslash.
std::string_view trim_trailing(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
    if (line.size() >= 2 && line[line.size() - 2] == '\\') break;
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace

void IgnoreRules::add(std::string_view text, std::string_view base) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLine) continue;
    line = trim_trailing(line);
    if (line.empty() || line.front() == '#') continue;
    Rule rule;
    rule.base = std::string(base);
    if (line.front() == '!') {
      rule.negate = true;
      line.remove_prefix(1);
    } else if (line.starts_with("\\!") || line.starts_with("\\#")) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.dir_only = true;
      line.remove_suffix(1);
    }
    // A "/" anywhere but at the end anchors the pattern to the ignore file's folder.
    rule.anchored = line.find('/') != std::string_view::npos;
    if (!line.empty() && line.front() == '/') line.remove_prefix(1);
    if (line.empty()) continue;
    rule.pattern = std::string(line);
    // A trailing space that was escaped keeps its backslash in glob form ("\ "), which the
    // matcher reads as a literal space.
    rules_.push_back(std::move(rule));
  }
}

int IgnoreRules::verdict(std::string_view path, bool is_dir) const {
  for (size_t i = rules_.size(); i-- > 0;) {
    const Rule& r = rules_[i];
    if (r.dir_only && !is_dir) continue;
    std::string_view rel = path;
    if (!r.base.empty()) {
      if (!(path.size() > r.base.size() && path.starts_with(r.base) && path[r.base.size()] == '/')) continue;
      rel = path.substr(r.base.size() + 1);
    }
    bool hit;
    if (r.anchored) {
      hit = glob_match_path(r.pattern, rel);
    } else {
      size_t slash = rel.rfind('/');
      hit = glob_match_segment(r.pattern, slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    }
    if (hit) return r.negate ? 0 : 1;
  }
  return -1;
}

bool IgnoreRules::ignored(std::string_view path, bool is_dir) const {
  if (rules_.empty()) return false;
  // Ancestors first: an ignored folder hides everything below it.
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && verdict(path.substr(0, i), true) == 1) return true;
  }
  return verdict(path, is_dir) == 1;
}

}  // namespace sov::kb
