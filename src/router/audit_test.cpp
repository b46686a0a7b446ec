#include "router/audit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace sov::router {
namespace {

namespace fs = std::filesystem;

TEST(Audit, RecordsAndReadsBack) {
  const fs::path dir = fs::temp_directory_path() / ("sov_audit_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string path = (dir / "sub" / "audit.db").string();
  {
    auto log = AuditLog::open(path);
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    AuditEntry e;
    e.time_ms = 1000;
    e.backend = "cloud";
    e.model = "m";
    e.api = "openai-chat";
    e.rule = "long";
    e.status = 200;
    e.prompt_tokens = 10;
    e.completion_tokens = 5;
    e.redactions = {{"email", 2}};
    e.cost_usd = 0.5;
    ASSERT_TRUE((*log)->record(e).is_ok());
    e.time_ms = 5000;
    e.status = 500;
    e.error = "boom";
    ASSERT_TRUE((*log)->record(e).is_ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto ro = AuditLog::open_read_only(path);
  ASSERT_TRUE(ro.is_ok());
  auto all = (*ro)->since(0);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].redactions.at("email"), 2);
  EXPECT_EQ((*all)[0].rule, "long");
  EXPECT_EQ((*all)[1].error, "boom");
  auto recent = (*ro)->since(2000);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].status, 500);
  EXPECT_EQ((*recent)[0].to_json()["time"], "1970-01-01T00:00:05.000Z");
  auto newest = (*ro)->since(0, 1);  // a limit keeps the newest entries
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].status, 500);
  fs::remove_all(dir);
}

TEST(Audit, MissingLogIsNotFound) {
  auto ro = AuditLog::open_read_only("/nonexistent/audit.db");
  ASSERT_FALSE(ro.is_ok());
  EXPECT_EQ(ro.status().code(), ErrorCode::kNotFound);
}

TEST(Audit, ParseSince) {
  const int64_t now = 10LL * 86400 * 1000;
  EXPECT_EQ(*parse_since("30m", now), now - 30 * 60 * 1000);
  EXPECT_EQ(*parse_since("2h", now), now - 2 * 3600 * 1000);
  EXPECT_EQ(*parse_since("7d", now), now - 7LL * 86400 * 1000);
  EXPECT_EQ(*parse_since("1970-01-02", now), 86400LL * 1000);
  EXPECT_EQ(*parse_since("1970-01-01T00:01:00", now), 60LL * 1000);
  EXPECT_FALSE(parse_since("yesterday", now).is_ok());
  EXPECT_FALSE(parse_since("", now).is_ok());
  EXPECT_FALSE(parse_since("5x", now).is_ok());
}

}  // namespace
}  // namespace sov::router
