#include "kb/glob.h"

#include <gtest/gtest.h>

#include "kb/ignore.h"
#include "kb/registry.h"

namespace sov::kb {
namespace {

TEST(Glob, Segments) {
  EXPECT_TRUE(glob_match_segment("*.md", "notes.md"));
  EXPECT_FALSE(glob_match_segment("*.md", "notes.mdx"));
  EXPECT_TRUE(glob_match_segment("a?c", "abc"));
  EXPECT_FALSE(glob_match_segment("a?c", "ac"));
  EXPECT_TRUE(glob_match_segment("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match_segment("[!a-c]x", "bx"));
  EXPECT_TRUE(glob_match_segment("[!a-c]x", "dx"));
  EXPECT_TRUE(glob_match_segment("\\*", "*"));
  EXPECT_FALSE(glob_match_segment("\\*", "a"));
  EXPECT_TRUE(glob_match_segment("[", "["));  // unterminated class: literal
  EXPECT_TRUE(glob_match_segment("*", ""));
  EXPECT_TRUE(glob_match_segment("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match_segment("a*b*c", "aXXbYY"));
}

TEST(Glob, HostilePatternIsFast) {
  // Exponential for naive backtracking; linear-ish here.
  std::string text(2000, 'a');
  EXPECT_FALSE(glob_match_segment("*a*a*a*a*a*a*a*a*a*a*a*b", text));
}

TEST(Glob, Paths) {
  EXPECT_TRUE(glob_match_path("a/**/b", "a/b"));
  EXPECT_TRUE(glob_match_path("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(glob_match_path("a/**/b", "a/x/y/c"));
  EXPECT_TRUE(glob_match_path("**/foo", "foo"));
  EXPECT_TRUE(glob_match_path("**/foo", "x/y/foo"));
  EXPECT_TRUE(glob_match_path("x/**", "x/y/z"));
  EXPECT_FALSE(glob_match_path("x/*", "x/y/z"));
  EXPECT_TRUE(glob_match_path("x/*", "x/y"));
}

TEST(Glob, PathFilter) {
  EXPECT_TRUE(path_filter_match("*.md", "/home/me/notes/a.md"));
  EXPECT_FALSE(path_filter_match("*.md", "/home/me/notes/a.txt"));
  EXPECT_TRUE(path_filter_match("notes/*.md", "/home/me/notes/a.md"));
  EXPECT_FALSE(path_filter_match("notes/*.md", "/home/me/notes/sub/a.md"));
  EXPECT_TRUE(path_filter_match("notes/**", "/home/me/notes/sub/a.md"));
  EXPECT_TRUE(path_filter_match("/home/**/a.md", "/home/me/notes/a.md"));
  EXPECT_FALSE(path_filter_match("/me/**", "/home/me/notes/a.md"));
  EXPECT_TRUE(path_filter_match("", "/anything"));
}

TEST(Ignore, BasicsNegationDirOnlyAnchored) {
  IgnoreRules r;
  r.add("# comment\n\n*.log\n!keep.log\nbuild/\n/root_only.txt\ndocs/*.tmp\n");
  EXPECT_TRUE(r.ignored("a.log", false));
  EXPECT_TRUE(r.ignored("deep/dir/a.log", false));
  EXPECT_FALSE(r.ignored("keep.log", false));
  EXPECT_FALSE(r.ignored("deep/keep.log", false));
  EXPECT_TRUE(r.ignored("build", true));
  EXPECT_FALSE(r.ignored("build", false));  // dir-only rule, a file named build stays
  EXPECT_TRUE(r.ignored("x/build", true));
  EXPECT_TRUE(r.ignored("build/out.o", false));  // inside an ignored folder
  EXPECT_TRUE(r.ignored("root_only.txt", false));
  EXPECT_FALSE(r.ignored("sub/root_only.txt", false));
  EXPECT_TRUE(r.ignored("docs/x.tmp", false));
  EXPECT_FALSE(r.ignored("other/docs/x.tmp", false));
  EXPECT_FALSE(r.ignored("notes.md", false));
}

TEST(Ignore, DoubleStar) {
  IgnoreRules r;
  r.add("**/cache\nlogs/**\na/**/z.txt\n");
  EXPECT_TRUE(r.ignored("cache", true));
  EXPECT_TRUE(r.ignored("p/q/cache", true));
  EXPECT_TRUE(r.ignored("logs/x/y.txt", false));
  EXPECT_TRUE(r.ignored("a/z.txt", false));
  EXPECT_TRUE(r.ignored("a/b/c/z.txt", false));
  EXPECT_FALSE(r.ignored("b/z.txt", false));
}

TEST(Ignore, NestedFilesAndReinclusionLimits) {
  IgnoreRules r;
  r.add("*.txt\n");
  r.add("!important.txt\n", "sub");
  EXPECT_TRUE(r.ignored("a.txt", false));
  EXPECT_TRUE(r.ignored("sub/a.txt", false));
  EXPECT_FALSE(r.ignored("sub/important.txt", false));
  EXPECT_TRUE(r.ignored("important.txt", false));  // the negation only applies below sub/

  IgnoreRules d;
  d.add("secret/\n!secret/open.txt\n");
  EXPECT_TRUE(d.ignored("secret/open.txt", false));  // cannot re-include inside an ignored folder
}

TEST(Ignore, LastRuleWinsAndEscapes) {
  IgnoreRules r;
  r.add("*.md\n!*.md\n\\#hash\n\\!bang\ntrail\\ \n");
  EXPECT_FALSE(r.ignored("a.md", false));
  EXPECT_TRUE(r.ignored("#hash", false));
  EXPECT_TRUE(r.ignored("!bang", false));
  EXPECT_TRUE(r.ignored("trail ", false));
  EXPECT_FALSE(r.ignored("trail", false));
}

TEST(Registry, HostileNames) {
  for (const char* bad : {"", ".", "..", "../x", "a/b", "/abs", ".hidden", "a\nb", "a b", "x..y", "-rf",
                          "a\\b", "\xc3\xa9t\xc3\xa9", "name\x01"}) {
    EXPECT_FALSE(validate_kb_name(bad)) << bad;
  }
  EXPECT_FALSE(validate_kb_name(std::string(65, 'a')));
  for (const char* good : {"notes", "Work_2024", "a.b-c", "0"}) EXPECT_TRUE(validate_kb_name(good)) << good;
  auto dir = kb_dir("/root/kb", "../../etc");
  EXPECT_FALSE(dir);
  store::EnvLookup env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "SOV_HOME") return "/srv/sov";
    return std::nullopt;
  };
  EXPECT_EQ(kb_root(env), "/srv/sov/kb");
  store::EnvLookup env2 = [](const std::string& k) -> std::optional<std::string> {
    if (k == "HOME") return "/home/u";
    return std::nullopt;
  };
  EXPECT_EQ(kb_root(env2), "/home/u/.sovereign/kb");
}

}  // namespace
}  // namespace sov::kb
