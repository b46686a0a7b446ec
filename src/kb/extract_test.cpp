#include "kb/extract.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kb/test_util.h"

namespace sov::kb {
namespace {

TEST(Classify, ByContentAndExtension) {
  EXPECT_EQ(classify("a.md", "# hi\n").format, Format::kMarkdown);
  EXPECT_EQ(classify("a.rst", "Title\n=====\n").format, Format::kRst);
  EXPECT_EQ(classify("a.py", "print(1)\n").format, Format::kCode);
  EXPECT_EQ(classify("a.HTML", "<p>x</p>").format, Format::kHtml);
  EXPECT_EQ(classify("a.json", "{}").format, Format::kJson);
  EXPECT_EQ(classify("a.csv", "a,b\n").format, Format::kCsv);
  EXPECT_EQ(classify("README", "plain words\n").format, Format::kText);
  EXPECT_EQ(classify("page", "<!DOCTYPE html><p>x</p>").format, Format::kHtml);  // no extension: sniffed
  EXPECT_EQ(classify("x.bin", "%PDF-1.4 ...").format, Format::kPdf);
  // Binary by content, whatever the name says.
  Classification png = classify("notes.txt", std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_FALSE(png.indexable);
  EXPECT_NE(png.reason.find("PNG"), std::string::npos);
  Classification nul = classify("notes.txt", std::string("abc\0def", 7));
  EXPECT_FALSE(nul.indexable);
  EXPECT_NE(nul.reason.find("NUL"), std::string::npos);
  EXPECT_FALSE(classify("m.gguf", "GGUF\x03").indexable);
  std::string noise;
  for (int i = 0; i < 1000; ++i) noise += static_cast<char>((i * 37 + 1) % 31 + 1);
  noise += "\xff";
  EXPECT_FALSE(classify("data.txt", noise).indexable);
  // Latin-1 text is accepted and decoded.
  Classification latin = classify("old.txt", "caf\xe9 cr\xe8me\n");
  ASSERT_TRUE(latin.indexable);
  EXPECT_TRUE(latin.latin1);
  EXPECT_EQ(*extract_text(latin, "caf\xe9 cr\xe8me\n"), "caf\xc3\xa9 cr\xc3\xa8me\n");
}

TEST(Extract, NormalisesText) {
  Classification c = classify("a.txt", "\xEF\xBB\xBFone\r\ntwo\rthree");
  EXPECT_EQ(*extract_text(c, "\xEF\xBB\xBFone\r\ntwo\rthree"), "one\ntwo\nthree");
}

TEST(Html, DropsScriptsStylesCommentsAndDecodesEntities) {
  std::string html =
      "<html><head><title>T</title><style>p{color:red}</style><script>alert('x<p>')</script></head>"
      "<body><!-- hidden --><h2>Sub &amp; title</h2><p>A&lt;B &#65;&#x42; &copy; &nbsp;x &unknown; "
      "caf&eacute;</p>"
      "<div>one<br>two</div><a href=\"x>y\">link</a> 3 < 4</body></html>";
  std::string text = html_to_text(html);
  EXPECT_EQ(text.find("color"), std::string::npos);
  EXPECT_EQ(text.find("alert"), std::string::npos);
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("## Sub & title"), std::string::npos) << text;
  EXPECT_NE(text.find("A<B AB \xc2\xa9 x &unknown; caf\xc3\xa9"), std::string::npos) << text;
  EXPECT_NE(text.find("one\ntwo"), std::string::npos) << text;
  EXPECT_NE(text.find("link 3 < 4"), std::string::npos) << text;
}

TEST(Html, UnterminatedConstructsAreBounded) {
  EXPECT_EQ(html_to_text("<script>never closed"), "");
  EXPECT_EQ(html_to_text("text <!-- open comment"), "text\n");
  EXPECT_EQ(html_to_text("<a href='unterminated"), "");
  std::string big(1 << 20, '<');
  EXPECT_LE(html_to_text(big).size(), big.size() + 1);
  EXPECT_EQ(html_to_text("&#1114112; &#0; &#x;"), "&#1114112; \xef\xbf\xbd &#x;\n");
}

TEST(Pdf, ExtractsHandWrittenPdf) {
  std::string pdf = test::make_pdf("Hello from a tiny PDF");
  Classification c = classify("doc.pdf", pdf);
  ASSERT_TRUE(c.indexable);
  EXPECT_EQ(c.format, Format::kPdf);
  auto text = extract_text(c, pdf);
  ASSERT_TRUE(text) << text.status().message();
  EXPECT_NE(text->find("Hello from a tiny PDF"), std::string::npos) << *text;
}

TEST(Pdf, BrokenPdfIsAnErrorNotACrash) {
  auto text = pdf_to_text("%PDF-1.4\ngarbage without objects");
  // Poppler may recover an empty document or refuse it; either way no crash and no text.
  if (text) {
    EXPECT_EQ(text->find("garbage"), std::string::npos);
  }
  std::string pdf = test::make_pdf("truncated");
  (void)pdf_to_text(pdf.substr(0, pdf.size() / 2));  // must return, whatever poppler recovers
  auto junk = pdf_to_text(std::string("%PDF-") + std::string(64, '\xff'));
  EXPECT_TRUE(!junk || junk->find_first_not_of("\n") == std::string::npos);
}

TEST(Pdf, BombConstructionReallyExpands) {
  // 80 * 8^2 characters from a 2 KB file: the reason poppler runs confined.
  std::string bomb = test::make_pdf_bomb(2, 8);
  auto text = pdf_to_text_in_process(bomb, size_t{1} << 30);
  ASSERT_TRUE(text) << text.status().message();
  EXPECT_EQ(std::count(text->begin(), text->end(), 'A'), 5120) << bomb.size();
}

TEST(Pdf, DecompressionBombEndsInAnErrorWithinItsLimits) {
  // 10^10 characters if nobody stops it.
  std::string bomb = test::make_pdf_bomb(4, 100);
  ASSERT_LT(bomb.size(), 64u << 10);
  ConfineLimits limits{size_t{64} << 20, size_t{8} << 20, 60'000};
  auto text = pdf_to_text(bomb, limits);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.status().code(), ErrorCode::kResourceExhausted) << text.status().message();
  EXPECT_NE(text.status().message().find("PDF extraction: needs more than 64 MiB"), std::string::npos)
      << text.status().message();
  // The same bomb against the clock.
  limits.max_memory_bytes = size_t{1} << 30;
  limits.timeout_ms = 300;
  text = pdf_to_text(bomb, limits);
  ASSERT_FALSE(text);
  EXPECT_NE(text.status().message().find("took longer than 0.3 s"), std::string::npos)
      << text.status().message();
  // And the extraction still works for the next, ordinary file.
  auto fine =
      extract_text(classify("ok.pdf", test::make_pdf("After the bomb")), test::make_pdf("After the bomb"));
  ASSERT_TRUE(fine) << fine.status().message();
  EXPECT_NE(fine->find("After the bomb"), std::string::npos);
}

}  // namespace
}  // namespace sov::kb
