#include "router/redact.h"

#include <gtest/gtest.h>

namespace sov::router {
namespace {

Redactor make(RedactionConfig c = {}) {
  auto r = Redactor::create(c);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return std::move(r).value();
}

TEST(Redact, BuiltinKinds) {
  Redactor r = make();
  Redaction st;
  std::string text =
      "Mail alice@example.com or bob.smith+x@mail.co.uk, call +1 415-555-0132 or (030) 1234 5678. "
      "Key sk-proj-abcdefghijklmnopqrstuvwxyz012345, aws AKIAIOSFODNN7EXAMPLE, gh "
      "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB, header Authorization: Bearer abc.def-ghi_jkl123456. "
      "Again alice@example.com.";
  const std::string original = text;
  r.redact(&text, &st);
  for (const char* secret :
       {"alice@example.com", "bob.smith+x@mail.co.uk", "415-555-0132", "1234 5678", "sk-proj-abcdefghij",
        "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghij", "abc.def-ghi_jkl123456"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  }
  EXPECT_NE(text.find("\xC2\xAB"
                      "EMAIL_1\xC2\xBB"),
            std::string::npos);
  EXPECT_NE(text.find("\xC2\xAB"
                      "EMAIL_2\xC2\xBB"),
            std::string::npos);
  EXPECT_EQ(text.find("EMAIL_3"), std::string::npos) << "the same address gets the same placeholder";
  EXPECT_NE(text.find("Bearer \xC2\xAB"
                      "SECRET_"),
            std::string::npos)
      << text;
  EXPECT_EQ(st.counts().at("email"), 3);
  EXPECT_EQ(st.counts().at("phone"), 2);
  EXPECT_EQ(st.counts().at("secret"), 4);
  EXPECT_EQ(st.restore(text), original);
}

TEST(Redact, LeavesOrdinaryTextAlone) {
  Redactor r = make();
  Redaction st;
  std::string text = "On 2024-01-15 version 1.2.3 sold 1234567 units for $12.50; see RFC 9110, item 42.";
  const std::string original = text;
  r.redact(&text, &st);
  EXPECT_EQ(text, original);
  EXPECT_TRUE(st.empty());
}

TEST(Redact, CustomPatternsAndGroups) {
  RedactionConfig c;
  c.builtin = {};
  c.custom = {{"ticket", "TICKET-[0-9]+"}, {"codename", "project (\\w+)"}};
  Redactor r = make(c);
  Redaction st;
  std::string text = "TICKET-42 is about project Falcon.";
  r.redact(&text, &st);
  EXPECT_EQ(text,
            "\xC2\xAB"
            "TICKET_1\xC2\xBB is about project \xC2\xAB"
            "CODENAME_1\xC2\xBB.");
  EXPECT_EQ(st.restore(text), "TICKET-42 is about project Falcon.");
}

TEST(Redact, InvalidCustomRegexIsAnError) {
  RedactionConfig c;
  c.custom = {{"bad", "(unclosed"}};
  auto r = Redactor::create(c);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("redaction \"bad\""), std::string::npos);
}

TEST(Redact, DisabledDoesNothing) {
  RedactionConfig c;
  c.enabled = false;
  Redactor r = make(c);
  Redaction st;
  std::string text = "alice@example.com";
  r.redact(&text, &st);
  EXPECT_EQ(text, "alice@example.com");
}

TEST(Redact, StreamRestoreAcrossEveryChunkBoundary) {
  Redactor r = make();
  Redaction st;
  std::string secret_text = "write to alice@example.com and carol@example.org now «not one» end";
  std::string redacted = secret_text;
  r.redact(&redacted, &st);
  ASSERT_NE(redacted, secret_text);
  // Every way of cutting the stream into two or three pieces restores the same text.
  for (size_t i = 0; i <= redacted.size(); ++i) {
    for (size_t j = i; j <= redacted.size(); j += 7) {
      StreamRestorer sr(&st);
      std::string out = sr.push(redacted.substr(0, i));
      out += sr.push(redacted.substr(i, j - i));
      out += sr.push(redacted.substr(j));
      out += sr.flush();
      ASSERT_EQ(out, secret_text) << i << " " << j;
    }
  }
}

TEST(Redact, StreamRestorerDoesNotHoldPlainText) {
  Redaction st;
  StreamRestorer sr(&st);
  EXPECT_EQ(sr.push("hello "), "hello ");
  EXPECT_EQ(sr.push("«abc"), "");
  EXPECT_EQ(sr.push("» x"), "«abc» x");
}

}  // namespace
}  // namespace sov::router
