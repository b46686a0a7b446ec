#include "base/testdata.h"

#include <cstdlib>
#include <filesystem>

namespace sov::test {

std::optional<std::string> testdata_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SOV_TESTDATA"); env != nullptr && *env != '\0') {
    if (fs::is_directory(env)) return std::string(env);
    return std::nullopt;
  }
  // Tests run with the repo root as working directory (see sov_test in CMake).
  for (const char* candidate : {"../shared/testdata", "../../shared/testdata"}) {
    if (fs::is_directory(candidate)) return fs::absolute(candidate).lexically_normal().string();
  }
  return std::nullopt;
}

}  // namespace sov::test
