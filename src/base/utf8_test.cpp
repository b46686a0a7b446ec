#include "base/utf8.h"

#include <gtest/gtest.h>

namespace sov::utf8 {
namespace {

TEST(Utf8, Validity) {
  EXPECT_TRUE(is_valid("hello"));
  EXPECT_TRUE(is_valid("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid("\xE2\x82"));          // cut short
  EXPECT_FALSE(is_valid("\x80"));              // lone continuation
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(incomplete_tail("abc"), 0u);
  EXPECT_EQ(incomplete_tail("a\xE2\x82"), 2u);
  EXPECT_EQ(incomplete_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_tail("a\xF0\x9F\x98\x80"), 0u);
  EXPECT_EQ(incomplete_tail("a\xFF"), 0u);  // invalid, not incomplete
}

TEST(Utf8, DecodeAppendRoundTrip) {
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u, 0x10FFFFu}) {
    std::string s;
    append(&s, cp);
    size_t pos = 0;
    EXPECT_EQ(decode(s, &pos), cp);
    EXPECT_EQ(pos, s.size());
  }
  EXPECT_EQ(sanitize("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(sanitize("ok \xEF\xBF\xBD"), "ok \xEF\xBF\xBD");
}

}  // namespace
}  // namespace sov::utf8
