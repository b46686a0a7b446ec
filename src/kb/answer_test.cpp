#include "kb/answer.h"

#include <gtest/gtest.h>

namespace sov::kb {
namespace {

SearchHit hit(std::string path, int first, int last, std::string text) {
  SearchHit h;
  h.path = std::move(path);
  h.line_first = first;
  h.line_last = last;
  h.text = std::move(text);
  return h;
}

TEST(Answer, NumberedSourcesInOrder) {
  auto p = build_grounded_prompt("Where is the key?",
                                 {hit("/a.md", 1, 3, "The key is under the mat."),
                                  hit("/b.txt", 10, 12, "Spare keys are at the neighbour's.")},
                                 1000);
  ASSERT_EQ(p.sources.size(), 2u);
  EXPECT_EQ(p.sources[0].number, 1);
  EXPECT_EQ(p.sources[1].number, 2);
  EXPECT_NE(p.system.find("[1] /a.md:1-3\nThe key is under the mat."), std::string::npos) << p.system;
  EXPECT_NE(p.system.find("[2] /b.txt:10-12\n"), std::string::npos);
  EXPECT_NE(p.system.find("[1]"), std::string::npos);
  EXPECT_EQ(p.user, "Where is the key?");
  EXPECT_EQ(format_sources(p.sources), "[1] /a.md:1-3\n[2] /b.txt:10-12\n");
}

TEST(Answer, TokenBudgetDropsWhatDoesNotFit) {
  std::string big(4000, 'x');
  for (size_t i = 0; i < big.size(); i += 5) big[i] = ' ';
  auto p = build_grounded_prompt(
      "q", {hit("/small.md", 1, 1, "short text"), hit("/big.md", 1, 90, big), hit("/tiny.md", 4, 4, "tiny")},
      60);
  ASSERT_EQ(p.sources.size(), 2u);
  EXPECT_EQ(p.sources[0].path, "/small.md");
  EXPECT_EQ(p.sources[1].path, "/tiny.md");
  EXPECT_EQ(p.sources[1].number, 2);  // numbering has no gaps
  EXPECT_EQ(p.system.find("/big.md"), std::string::npos);
  EXPECT_EQ(format_sources(p.sources), "[1] /small.md:1\n[2] /tiny.md:4\n");

  // The best source alone over the budget is cut, not dropped.
  auto cut = build_grounded_prompt("q", {hit("/big.md", 1, 90, big)}, 60);
  ASSERT_EQ(cut.sources.size(), 1u);
  EXPECT_LT(cut.system.size(), 1200u);
}

TEST(Answer, MergesOverlappingHitsOfOneFile) {
  auto p = build_grounded_prompt(
      "q",
      {hit("/a.md", 1, 3, "l1\nl2\nl3"), hit("/a.md", 3, 5, "l3\nl4\nl5"), hit("/a.md", 40, 41, "far\naway")},
      1000);
  ASSERT_EQ(p.sources.size(), 2u);
  EXPECT_EQ(p.sources[0].line_first, 1);
  EXPECT_EQ(p.sources[0].line_last, 5);
  EXPECT_EQ(p.sources[0].text, "l1\nl2\nl3\nl4\nl5");
  EXPECT_EQ(source_location(p.sources[1]), "/a.md:40-41");
}

TEST(Answer, NoSources) {
  auto p = build_grounded_prompt("q", {}, 100);
  EXPECT_TRUE(p.sources.empty());
  EXPECT_NE(p.system.find("could not find"), std::string::npos);
}

}  // namespace
}  // namespace sov::kb
