#include "chat/conversation.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

class ConversationFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sov_conversation_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
  std::string dir_;
};

Conversation sample() {
  Conversation c;
  c.set_model("stories:latest");
  c.set_system("You tell stories.");
  c.parameters()["temperature"] = 0.0;
  c.parameters()["stop"] = {"</s>"};
  EXPECT_TRUE(c.add("user", "Tell me about \"Lily\" ✓\nplease").is_ok());
  EXPECT_TRUE(c.add("assistant", "Once upon a time").is_ok());
  return c;
}

TEST(Conversation, MessagesSystemAndClear) {
  Conversation c = sample();
  ojson m = c.chat_messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], ojson({{"role", "system"}, {"content", "You tell stories."}}));
  EXPECT_EQ(m[2]["role"], "assistant");
  EXPECT_FALSE(c.add("wizard", "x").is_ok());
  EXPECT_EQ(c.size(), 2u);
  c.pop_back();
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.messages().back()["role"], "user");
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.system(), "You tell stories.");  // kept
  EXPECT_EQ(c.parameters()["temperature"], 0.0);
  c.pop_back();  // harmless when empty
  c.set_system("");
  EXPECT_TRUE(c.chat_messages().empty());  // no empty system message
}

TEST_F(ConversationFiles, SaveLoadRoundTrip) {
  Conversation c = sample();
  ASSERT_TRUE(c.save(path("chat.json")).is_ok());
  auto loaded = Conversation::load(path("chat.json"));
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->to_json(), c.to_json());
  EXPECT_EQ(loaded->messages()[0]["content"], "Tell me about \"Lily\" ✓\nplease");
  // The file is plain JSON that other tools can read.
  std::ifstream in(path("chat.json"));
  ojson j = ojson::parse(in);
  EXPECT_EQ(j["format"], "sov-conversation");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["messages"].size(), 2u);
  // No temporary file is left behind, and saving again replaces the file.
  c.clear();
  ASSERT_TRUE(c.save(path("chat.json")).is_ok());
  EXPECT_EQ(Conversation::load(path("chat.json"))->size(), 0u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ConversationFiles, LoadRefusesBadFiles) {
  auto refused = [&](const std::string& name, const std::string& text, const std::string& needle) {
    write(name, text);
    auto r = Conversation::load(path(name));
    ASSERT_FALSE(r.is_ok()) << name;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(name), std::string::npos) << "the message names the file";
  };
  refused("a.json", "{not json", "not valid JSON");
  refused("b.json", "[1, 2]", "JSON object");
  refused("c.json", R"({"format": "other", "version": 1})", "not a conversation");
  refused("d.json", R"({"format": "sov-conversation", "version": 9})", "version");
  refused("e.json",
          R"({"format": "sov-conversation", "version": 1, "messages": [{"role": "wizard", "content": "x"}]})",
          "unknown role");
  refused("f.json",
          R"({"format": "sov-conversation", "version": 1, "messages": [{"role": "user", "content": 3}]})",
          "message 0");
  refused("g.json", R"({"format": "sov-conversation", "version": 1, "messages": {}})", "messages");
  refused("h.json", R"({"format": "sov-conversation", "version": 1, "parameters": {"top_k": "many"}})",
          "top_k");
  refused("i.json", R"({"format": "sov-conversation", "version": 1, "system": 5})", "system");

  EXPECT_EQ(Conversation::load(path("missing.json")).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(Conversation::load(dir_).is_ok());  // a directory
  // Larger than the limit: refused before reading (a sparse file costs no disk).
  {
    std::ofstream(path("big.json")) << "{}";
    ASSERT_EQ(truncate(path("big.json").c_str(), static_cast<off_t>(Conversation::kMaxFileBytes) + 1), 0);
  }
  auto big = Conversation::load(path("big.json"));
  ASSERT_FALSE(big.is_ok());
  EXPECT_NE(big.status().message().find("larger than"), std::string::npos);
  // Minimal valid file: everything but format and version is optional.
  write("min.json", R"({"format": "sov-conversation", "version": 1})");
  auto min = Conversation::load(path("min.json"));
  ASSERT_TRUE(min.is_ok()) << min.status().message();
  EXPECT_EQ(min->size(), 0u);
}

TEST_F(ConversationFiles, SaveReportsErrors) {
  Conversation c = sample();
  Status s = c.save(path("no/such/dir/chat.json"));
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_FALSE(c.save("").is_ok());
}

}  // namespace
}  // namespace sov::chat
