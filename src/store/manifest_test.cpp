#include "store/manifest.h"

#include <gtest/gtest.h>

namespace sov::store {
namespace {

const std::string kA(64, 'a'), kB(64, 'b'), kC(64, 'c');

// A manifest as registry.ollama.ai serves it.
std::string ollama_manifest() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:)" +
         kA + R"(","size":485},
    "layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)" +
         kB + R"(","size":1321082688},
              {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:)" +
         kC + R"(","size":1429,
               "from":"registry.ollama.ai/library/llama3.2:latest"}]})";
}

TEST(Manifest, ParsesOllamaManifest) {
  auto m = parse_manifest(ollama_manifest());
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->config.digest.hex(), kA);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].media_type, kMediaModel);
  EXPECT_EQ(m->layers[0].size, 1321082688u);
  EXPECT_EQ(m->find(kMediaTemplate)->digest.hex(), kC);
  EXPECT_EQ(m->find(kMediaSystem), nullptr);
  EXPECT_EQ(m->total_size(), 485u + 1321082688u + 1429u);
}

TEST(Manifest, RoundTrips) {
  auto m = parse_manifest(ollama_manifest());
  ASSERT_TRUE(m.is_ok());
  std::string text = serialize_manifest(*m);
  EXPECT_TRUE(text.starts_with(R"({"schemaVersion":2,"mediaType":)")) << text;
  auto again = parse_manifest(text);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(serialize_manifest(*again), text);
  EXPECT_EQ(again->layers[1].from, "registry.ollama.ai/library/llama3.2:latest");
}

TEST(Manifest, RefusesHostileOrMalformed) {
  auto with_layer_digest = [](const std::string& d) {
    return R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
           R"(","size":1},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":")" + d +
           R"(","size":1}]})";
  };
  const std::string bad[] = {
      "",
      "not json",
      "[]",
      R"({"schemaVersion":1,"config":{},"layers":[]})",
      R"({"schemaVersion":2,"layers":[]})",
      R"({"schemaVersion":2,"mediaType":"text/html","config":{"mediaType":"x","digest":"sha256:)" + kA +
          R"(","size":1},"layers":[]})",
      with_layer_digest("sha256:../../../../../../etc/passwd"),  // CVE-2024-37032
      with_layer_digest("sha256:" + kB.substr(1)),
      with_layer_digest("sha256-" + kB + "/../x"),
      with_layer_digest("../" + kB),
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
          R"(","size":-1},"layers":[]})",
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
          R"(","size":"12"},"layers":[]})",
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
          R"(","size":1e30},"layers":[]})",
      R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
          R"(","size":18446744073709551615},"layers":[]})",
      R"({"schemaVersion":2,"config":{"mediaType":"a\nb","digest":"sha256:)" + kA +
          R"(","size":1},"layers":[]})",
  };
  for (const auto& text : bad) {
    auto m = parse_manifest(text);
    EXPECT_FALSE(m.is_ok()) << text;
  }
  EXPECT_FALSE(parse_manifest(std::string(kMaxManifestBytes + 1, ' ')).is_ok());
}

TEST(Manifest, CapsLayerCount) {
  std::string layers;
  for (size_t i = 0; i <= kMaxLayers; ++i) {
    layers += std::string(i ? "," : "") + R"({"mediaType":"x","digest":"sha256:)" + kA + R"(","size":1})";
  }
  auto m = parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kA +
                          R"(","size":1},"layers":[)" + layers + "]}");
  EXPECT_FALSE(m.is_ok());
}

}  // namespace
}  // namespace sov::store
