#include "store/digest.h"

#include <gtest/gtest.h>

#include <fstream>

namespace sov::store {
namespace {

const std::string kHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";  // sha256("")

TEST(Digest, ParsesBothSeparatorsAndNormalisesCase) {
  auto a = Digest::parse("sha256:" + kHex);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->hex(), kHex);
  EXPECT_EQ(a->str(), "sha256:" + kHex);
  EXPECT_EQ(a->file_name(), "sha256-" + kHex);
  EXPECT_EQ(a->short_id(), kHex.substr(0, 12));
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto b = Digest::parse("sha256-" + upper);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(*a, *b);
}

TEST(Digest, RefusesHostileAndMalformedDigests) {
  const std::string bad[] = {
      "",
      "sha256:",
      "sha256:" + kHex.substr(1),  // 63 digits
      "sha256:" + kHex + "0",      // 65 digits
      "sha512:" + kHex,            // other algorithm
      "sha256/" + kHex,            // wrong separator
      "sha256:../../../../etc/passwd" + std::string(35, 'a'),
      "sha256:" + kHex.substr(0, 60) + "/../",  // right length, path inside
      "sha256:" + kHex.substr(0, 62) + "%2e",
      "sha256:" + std::string(63, 'a') + '\0',
      "sha256:" + std::string(64, 'g'),
      " sha256:" + kHex,
      "sha256:" + kHex + "\n",
      std::string(4096, 'a'),
  };
  for (const auto& s : bad) {
    auto d = Digest::parse(s);
    EXPECT_FALSE(d.is_ok()) << s;
    if (!d) {
      EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
      // The message never echoes control bytes or more than a short prefix.
      EXPECT_LT(d.status().message().size(), 200u);
      EXPECT_EQ(d.status().message().find('\n'), std::string::npos);
    }
  }
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_of("").hex(), kHex);
  EXPECT_EQ(sha256_of("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileMatchesBytes) {
  const std::string path = ::testing::TempDir() + "/digest_test.bin";
  std::string data(3 << 20, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7919 % 251);
  std::ofstream(path, std::ios::binary) << data;
  uint64_t size = 0;
  auto d = sha256_file(path, &size);
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(size, data.size());
  EXPECT_EQ(*d, sha256_of(data));
  EXPECT_EQ(sha256_file(path + ".missing").status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace sov::store
