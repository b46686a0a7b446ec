// Ignore files with gitignore syntax (.gitignore, .sovignore): which paths under a walked
// root are left out of the knowledge base.
//
// Rules follow git: blank lines and "#" comments are skipped; trailing spaces are dropped
// unless escaped; "!" negates (re-includes); a trailing "/" matches directories only; a
// pattern with a "/" at the start or in the middle is anchored to the folder of its ignore
// file, any other pattern matches a name at any depth below it; "**" spans folders. The last
// matching rule wins, rules of deeper folders come after those of their parents, and a path
// whose parent folder is ignored stays ignored whatever a later rule says (git cannot
// re-include inside an excluded folder either).
//
// Paths are relative to the walk root, '/'-separated, without a leading "./".
// IgnoreRules is a value; const methods are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sov::kb {

class IgnoreRules {
 public:
  // Adds the rules of an ignore file found in folder `base` (relative to the root; "" for
  // the root itself). Lines beyond a sane length are skipped.
  void add(std::string_view file_text, std::string_view base = "");

  // True when the path (file or folder) is ignored, its ancestors included.
  bool ignored(std::string_view path, bool is_dir) const;

  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    std::string base;     // folder of the ignore file, "" or "a/b"
    std::string pattern;  // without "!", leading "/" and trailing "/"
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;
  };
  // The verdict of the rules for this one path (ancestors not considered): -1 no rule
  // matched, 0 re-included, 1 ignored.
  int verdict(std::string_view path, bool is_dir) const;

  std::vector<Rule> rules_;
};

}  // namespace sov::kb
