// Test-only helper: where the shared test data lives. Linked into test binaries only.
#pragma once

#include <optional>
#include <string>

namespace sov::test {

// $SOV_TESTDATA, or ../shared/testdata relative to the repo root, if that folder exists.
std::optional<std::string> testdata_dir();

}  // namespace sov::test

// Skips the current test with a message when the shared test data is absent.
#define SOV_REQUIRE_TESTDATA(var)                                             \
  auto var##_opt = ::sov::test::testdata_dir();                               \
  if (!var##_opt) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)"; \
  const std::string var = *var##_opt
