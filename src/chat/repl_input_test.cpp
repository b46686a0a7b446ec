#include "chat/repl_input.h"

#include <gtest/gtest.h>

#include "chat/parameters.h"

namespace sov::chat {
namespace {

using Kind = ReplCommand::Kind;

TEST(InputAssembler, SingleLinesPassThrough) {
  InputAssembler a;
  EXPECT_EQ(a.add_line("hello \"quoted\" text"), "hello \"quoted\" text");
  EXPECT_EQ(a.add_line(""), "");
  EXPECT_FALSE(a.in_block());
}

TEST(InputAssembler, TripleQuotedBlocks) {
  InputAssembler a;
  EXPECT_FALSE(a.add_line("\"\"\"first line").has_value());
  EXPECT_TRUE(a.in_block());
  EXPECT_FALSE(a.add_line("").has_value());
  EXPECT_FALSE(a.add_line("  indented").has_value());
  auto done = a.add_line("last\"\"\"");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(*done, "first line\n\n  indented\nlast");
  EXPECT_FALSE(a.in_block());
  // Quotes on a line of their own.
  EXPECT_FALSE(a.add_line("\"\"\"").has_value());
  EXPECT_FALSE(a.add_line("x").has_value());
  EXPECT_EQ(a.add_line("\"\"\""), "\nx\n");
  // Opened and closed on one line.
  EXPECT_EQ(a.add_line("\"\"\"one line\"\"\""), "one line");
  // A multi-line system message.
  EXPECT_FALSE(a.add_line("/set system \"\"\"You are").has_value());
  EXPECT_EQ(a.add_line("helpful.\"\"\""), "/set system You are\nhelpful.");
  // Quotes inside a message do not open a block.
  EXPECT_EQ(a.add_line("say \"\"\" please"), "say \"\"\" please");
}

TEST(InputAssembler, ResetDropsAHalfTypedBlock) {
  InputAssembler a;
  EXPECT_FALSE(a.add_line("\"\"\"draft").has_value());
  a.reset();
  EXPECT_FALSE(a.in_block());
  EXPECT_EQ(a.add_line("fresh"), "fresh");
}

TEST(ParseCommand, MessagesAndCommands) {
  EXPECT_EQ(parse_command("  ").kind, Kind::kEmpty);
  auto m = parse_command("Why is the sky blue?");
  EXPECT_EQ(m.kind, Kind::kMessage);
  EXPECT_EQ(m.text, "Why is the sky blue?");
  EXPECT_EQ(parse_command("/bye").kind, Kind::kBye);
  EXPECT_EQ(parse_command(" /bye ").kind, Kind::kBye);
  EXPECT_EQ(parse_command("/clear").kind, Kind::kClear);
  EXPECT_EQ(parse_command("/?").kind, Kind::kHelp);
  auto h = parse_command("/? set");
  EXPECT_EQ(h.kind, Kind::kHelp);
  EXPECT_EQ(h.name, "set");

  auto p = parse_command("/set parameter temperature 0");
  EXPECT_EQ(p.kind, Kind::kSetParameter);
  EXPECT_EQ(p.name, "temperature");
  EXPECT_EQ(p.text, "0");
  auto stop = parse_command("/set parameter stop User: \"\\n\"");
  EXPECT_EQ(stop.text, "User: \"\\n\"");
  auto sys = parse_command("/set system You are a  pirate. ");
  EXPECT_EQ(sys.kind, Kind::kSetSystem);
  EXPECT_EQ(sys.text, "You are a  pirate.");
  auto multi = parse_command("/set system \nLine one\nLine two");
  EXPECT_EQ(multi.text, "Line one\nLine two");

  auto show = parse_command("/show info");
  EXPECT_EQ(show.kind, Kind::kShow);
  EXPECT_EQ(show.name, "info");
  auto save = parse_command("/save my chat.json");
  EXPECT_EQ(save.kind, Kind::kSave);
  EXPECT_EQ(save.text, "my chat.json");
  auto load = parse_command("/load chat.json");
  EXPECT_EQ(load.kind, Kind::kLoad);
  EXPECT_EQ(load.text, "chat.json");
}

TEST(ParseCommand, MistakesAreExplained) {
  for (const char* bad : {"/set", "/set parameter", "/set parameter top_k", "/set system", "/set colour red",
                          "/show", "/show everything", "/save", "/load ", "/frobnicate"}) {
    auto c = parse_command(bad);
    EXPECT_EQ(c.kind, Kind::kError) << bad;
    EXPECT_FALSE(c.text.empty()) << bad;
  }
  EXPECT_NE(parse_command("/frobnicate").text.find("/frobnicate"), std::string::npos);
}

TEST(ReplHelp, ListsCommandsAndParameters) {
  std::string main = repl_help("");
  for (const char* cmd : {"/set", "/show", "/clear", "/save", "/load", "/bye", "/?", "\"\"\""})
    EXPECT_NE(main.find(cmd), std::string::npos) << cmd;
  std::string set = repl_help("set");
  for (const auto& p : known_parameters()) EXPECT_NE(set.find(p.name), std::string::npos) << p.name;
  EXPECT_NE(repl_help("show").find("/show info"), std::string::npos);
}

}  // namespace
}  // namespace sov::chat
