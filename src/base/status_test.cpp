#include "base/status.h"

#include <gtest/gtest.h>

namespace sov {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::invalid_argument("not positive");
  return x;
}

Result<int> doubled(int x) {
  SOV_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v * 2;
}

Status check(int x) {
  SOV_RETURN_IF_ERROR(parse_positive(x).status());
  return Status::ok();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status s = Status::corrupt("bad magic");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kCorrupt);
  EXPECT_EQ(s.to_string(), "corrupt: bad magic");
  EXPECT_EQ(s.with_context("model.gguf").message(), "model.gguf: bad magic");
}

TEST(Result, ValueOrStatusAndMacros) {
  EXPECT_EQ(*doubled(4), 8);
  auto r = doubled(-1);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(check(1).is_ok());
  EXPECT_EQ(check(0).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sov
