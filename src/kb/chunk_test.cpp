#include "kb/chunk.h"

#include <gtest/gtest.h>

#include <set>

namespace sov::kb {
namespace {

std::string lines(int n, const std::string& prefix) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += prefix + " line number " + std::to_string(i) + " with some words\n";
  return s;
}

TEST(Chunk, MarkdownHeadingsAndLineRanges) {
  std::string md =
      "# Title\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n### Linux\n\nUse apt.\n\n## "
      "Usage\n\nCall it.\n";
  auto chunks = chunk_text(md, Format::kMarkdown, {});
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].heading, "Title");
  EXPECT_EQ(chunks[0].line_first, 1);
  EXPECT_EQ(chunks[0].line_last, 3);
  EXPECT_EQ(chunks[1].heading, "Title > Install");
  EXPECT_EQ(chunks[2].heading, "Title > Install > Linux");
  EXPECT_EQ(chunks[2].line_first, 9);
  EXPECT_EQ(chunks[2].line_last, 11);
  EXPECT_NE(chunks[2].text.find("Use apt."), std::string::npos);
  EXPECT_EQ(chunks[3].heading, "Title > Usage");
}

TEST(Chunk, HeadingsInsideCodeFencesAreNotHeadings) {
  std::string md = "# Real\n\n```\n# not a heading\n\nstill code\n```\n";
  auto chunks = chunk_text(md, Format::kMarkdown, {});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].heading, "Real");
  EXPECT_NE(chunks[0].text.find("still code"), std::string::npos);
}

TEST(Chunk, SetextAndRstHeadings) {
  auto md = chunk_text("Top\n===\n\ntext a\n\nSub\n---\n\ntext b\n", Format::kMarkdown, {});
  ASSERT_EQ(md.size(), 2u);
  EXPECT_EQ(md[1].heading, "Top > Sub");
  auto rst = chunk_text("Guide\n=====\n\nintro\n\nPart\n----\n\nbody\n", Format::kRst, {});
  ASSERT_EQ(rst.size(), 2u);
  EXPECT_EQ(rst[0].heading, "Guide");
  EXPECT_EQ(rst[1].heading, "Guide > Part");
}

TEST(Chunk, RespectsBudgetWithOverlapAndCoversEveryLine) {
  std::string text = lines(200, "plain");
  ChunkOptions o{.max_tokens = 64, .overlap_tokens = 16};
  auto chunks = chunk_text(text, Format::kText, o);
  ASSERT_GT(chunks.size(), 5u);
  std::set<int> covered;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(estimate_tokens(chunks[i].text), 64 + 8) << i;
    for (int l = chunks[i].line_first; l <= chunks[i].line_last; ++l) covered.insert(l);
    if (i > 0) {
      EXPECT_LE(chunks[i].line_first, chunks[i - 1].line_last) << "overlap expected at " << i;
      EXPECT_GT(chunks[i].line_last, chunks[i - 1].line_last);
    }
  }
  EXPECT_EQ(covered.size(), 200u);
}

TEST(Chunk, CodeSplitsAtTopLevelDefinitions) {
  std::string code;
  for (int f = 0; f < 6; ++f) {
    code += "def function_" + std::to_string(f) + "(x):\n";
    for (int i = 0; i < 8; ++i) code += "    value = x * " + std::to_string(i) + " + compute(x)\n";
    code += "\n";
  }
  auto chunks = chunk_text(code, Format::kCode, {.max_tokens = 120, .overlap_tokens = 20});
  ASSERT_GT(chunks.size(), 1u);
  for (const Chunk& c : chunks) EXPECT_TRUE(c.text.starts_with("def function_")) << c.text;
}

TEST(Chunk, OverLongLineIsCutAtUtf8Boundaries) {
  std::string line;
  for (int i = 0; i < 3000; ++i) line += "\xc3\xa9t\xc3\xa9 ";
  auto chunks = chunk_text(line, Format::kText, {.max_tokens = 50, .overlap_tokens = 0});
  ASSERT_GT(chunks.size(), 10u);
  size_t total = 0;
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.line_first, 1);
    EXPECT_EQ(c.line_last, 1);
    EXPECT_NE(static_cast<unsigned char>(c.text[0]) & 0xC0, 0x80u);
    total += c.text.size();
  }
  EXPECT_EQ(total, line.size());
}

TEST(Chunk, UsesTheGivenTokenCounter) {
  std::string text = lines(20, "x");
  int calls = 0;
  auto chunks =
      chunk_text(text, Format::kText, {.max_tokens = 10, .overlap_tokens = 0}, [&](std::string_view) {
        ++calls;
        return 5;
      });
  EXPECT_GT(calls, 0);
  EXPECT_EQ(chunks.size(), 20u);  // 5 tokens + 1 per line: one line per chunk
}

TEST(Chunk, EmptyAndBlankInputs) {
  EXPECT_TRUE(chunk_text("", Format::kText, {}).empty());
  EXPECT_TRUE(chunk_text("\n\n   \n", Format::kMarkdown, {}).empty());
}

}  // namespace
}  // namespace sov::kb
