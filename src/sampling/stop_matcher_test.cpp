#include "sampling/stop_matcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sov::sampling {
namespace {

struct Stream {
  std::vector<std::string> emitted;  // text returned by each feed
  std::string all;                   // everything emitted, flush included
  bool stopped = false;
  int32_t stop_index = -1;
};

Stream run(std::vector<std::string> stops, const std::vector<std::string>& pieces) {
  StopMatcher m(std::move(stops));
  Stream r;
  for (const std::string& piece : pieces) {
    StopMatcher::Output out = m.feed(piece);
    r.emitted.push_back(out.text);
    r.all += out.text;
    if (out.stopped) {
      r.stopped = true;
      r.stop_index = out.stop_index;
    }
  }
  r.all += m.flush();
  return r;
}

TEST(StopMatcher, NoStopsPassesThrough) {
  Stream r = run({}, {"Hello", ", ", "world"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"Hello", ", ", "world"}));
  EXPECT_FALSE(r.stopped);
}

TEST(StopMatcher, StopAtStart) {
  Stream r = run({"###"}, {"###", "more"});
  EXPECT_EQ(r.all, "");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.stop_index, 0);
}

TEST(StopMatcher, StopInsideOnePieceDropsTheRest) {
  Stream r = run({"</s>"}, {"ab</s>cd", "ef"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"ab", ""}));
  EXPECT_TRUE(r.stopped);
}

TEST(StopMatcher, SplitAcrossThreePieces) {
  Stream r = run({"<|end|>"}, {"Hello <|e", "n", "d|> world"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"Hello ", "", ""}));
  EXPECT_EQ(r.all, "Hello ");
  EXPECT_TRUE(r.stopped);
}

TEST(StopMatcher, FalsePrefixIsReleased) {
  StopMatcher m({"<|end|>"});
  EXPECT_EQ(m.feed("a <|e").text, "a ");
  EXPECT_EQ(m.held(), 3u);
  StopMatcher::Output out = m.feed("x");
  EXPECT_EQ(out.text, "<|ex");
  EXPECT_FALSE(out.stopped);
  EXPECT_EQ(m.held(), 0u);
}

TEST(StopMatcher, HeldTailReleasedAtFlush) {
  Stream r = run({"STOP"}, {"go ST", "O"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"go ", ""}));
  EXPECT_EQ(r.all, "go STO");
  EXPECT_FALSE(r.stopped);
}

TEST(StopMatcher, OverlappingPrefix) {
  // "aaab" with stop "aab": the first "a" is released only once it cannot start the match.
  Stream r = run({"aab"}, {"a", "a", "a", "b"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"", "", "a", ""}));
  EXPECT_TRUE(r.stopped);
}

TEST(StopMatcher, MultipleStopStrings) {
  Stream r = run({"STOP", "END"}, {"abc E", "ND def STOP"});
  EXPECT_EQ(r.all, "abc ");
  EXPECT_EQ(r.stop_index, 1);

  Stream earliest = run({"later", "first"}, {"x first later"});
  EXPECT_EQ(earliest.all, "x ");
  EXPECT_EQ(earliest.stop_index, 1);

  Stream same_start = run({"ab", "abc"}, {"xabc"});
  EXPECT_EQ(same_start.all, "x");
  EXPECT_EQ(same_start.stop_index, 0);

  // The longest possible prefix among all stops is held.
  StopMatcher m({"xyz", "yz!"});
  EXPECT_EQ(m.feed("axy").text, "a");
}

TEST(StopMatcher, Utf8) {
  // Stop string with a two-byte character, fed byte by byte.
  Stream r = run({"é!"}, {"caf", "\xC3", "\xA9", "!"});
  EXPECT_EQ(r.emitted, (std::vector<std::string>{"caf", "", "", ""}));
  EXPECT_TRUE(r.stopped);

  // A character that only shares its lead byte with the stop string is released whole.
  Stream near = run({"é!"}, {"caf\xC3", "\xA8", "!"});  // "cafè!"
  EXPECT_EQ(near.emitted, (std::vector<std::string>{"caf", "\xC3\xA8", "!"}));
  EXPECT_FALSE(near.stopped);

  // Without stop strings an incomplete character is still held until complete.
  Stream euro = run({}, {"5 \xE2\x82", "\xAC", " ok"});
  EXPECT_EQ(euro.emitted, (std::vector<std::string>{"5 ", "\xE2\x82\xAC", " ok"}));

  Stream cjk = run({"。"}, {"你好", "\xE3\x80", "\x82", "再见"});
  EXPECT_EQ(cjk.all, "你好");
  EXPECT_TRUE(cjk.stopped);
}

TEST(StopMatcher, AfterStopNothingMore) {
  StopMatcher m({"\n\n"});
  EXPECT_EQ(m.feed("line\n").text, "line");
  StopMatcher::Output out = m.feed("\nnext");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.text, "");
  out = m.feed("more");
  EXPECT_TRUE(out.stopped);
  EXPECT_EQ(out.text, "");
  EXPECT_EQ(m.flush(), "");
  m.reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.feed("again").text, "again");
}

TEST(StopMatcher, EmptyStopStringIgnored) {
  Stream r = run({"", "zz"}, {"abc", "dzz"});
  EXPECT_EQ(r.all, "abcd");
  EXPECT_EQ(r.stop_index, 1);
}

}  // namespace
}  // namespace sov::sampling
