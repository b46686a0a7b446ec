#include "server/config.h"

#include <gtest/gtest.h>

#include <map>

#include "server/duration.h"

namespace sov::server {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, ParseHost) {
  std::string host;
  int port = 11434;
  ASSERT_TRUE(parse_host("0.0.0.0", &host, &port).is_ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 11434);
  ASSERT_TRUE(parse_host("http://localhost:8080/", &host, &port).is_ok());
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(parse_host(":9000", &host, &port).is_ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9000);
  ASSERT_TRUE(parse_host("[::1]:7000", &host, &port).is_ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 7000);
  EXPECT_FALSE(parse_host("localhost:99999", &host, &port).is_ok());
  EXPECT_FALSE(parse_host("https://x", &host, &port).is_ok());
  EXPECT_FALSE(parse_host("[::1", &host, &port).is_ok());
  EXPECT_FALSE(parse_host("", &host, &port).is_ok());
}

TEST(Config, EnvironmentIsAppliedAndValidated) {
  ServerConfig c;
  ASSERT_TRUE(apply_env(env_of({{"SOV_HOST", "127.0.0.1:1234"},
                                {"SOV_MODELS", "/m"},
                                {"SOV_ORIGINS", "http://a.example, https://*.b.example"},
                                {"SOV_API_KEY", "k"},
                                {"SOV_KEEP_ALIVE", "10m"},
                                {"SOV_NUM_PARALLEL", "2"},
                                {"SOV_MAX_QUEUE", "7"},
                                {"SOV_CONTEXT_LENGTH", "2048"},
                                {"SOV_KV_CACHE_TYPE", "F32"}}),
                        &c)
                  .is_ok());
  EXPECT_EQ(c.port, 1234);
  EXPECT_EQ(c.models_dir, "/m");
  ASSERT_EQ(c.origins.size(), 2u);
  EXPECT_EQ(c.origins[1], "https://*.b.example");
  EXPECT_EQ(c.api_key, "k");
  EXPECT_EQ(c.keep_alive.duration, std::chrono::minutes(10));
  EXPECT_EQ(c.num_parallel, 2);
  EXPECT_EQ(c.max_queue, 7u);
  EXPECT_EQ(c.context_length, 2048);
  EXPECT_EQ(c.kv_cache_type, engine::KvType::kF32);
  EXPECT_EQ(ServerConfig().kv_cache_type, engine::KvType::kF16);

  ServerConfig d;
  Status bad = apply_env(env_of({{"SOV_NUM_PARALLEL", "many"}}), &d);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("SOV_NUM_PARALLEL"), std::string::npos);
  EXPECT_FALSE(apply_env(env_of({{"SOV_KEEP_ALIVE", "soon"}}), &d).is_ok());
  EXPECT_FALSE(apply_env(env_of({{"SOV_MAX_QUEUE", "0"}}), &d).is_ok());
  Status bad_kv = apply_env(env_of({{"SOV_KV_CACHE_TYPE", "q4_0"}}), &d);
  ASSERT_FALSE(bad_kv.is_ok());
  EXPECT_NE(bad_kv.message().find("SOV_KV_CACHE_TYPE"), std::string::npos);
}

TEST(Duration, KeepAliveForms) {
  auto k = parse_keep_alive_text("1h30m");
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(k->duration, std::chrono::minutes(90));
  EXPECT_FALSE(k->forever);
  EXPECT_EQ(parse_keep_alive_text("500ms")->duration, std::chrono::milliseconds(500));
  EXPECT_TRUE(parse_keep_alive_text("-1")->forever);
  EXPECT_TRUE(parse_keep_alive_text("-5m")->forever);
  EXPECT_EQ(parse_keep_alive_text("0")->duration.count(), 0);
  EXPECT_EQ(parse_keep_alive(nlohmann::json(30))->duration, std::chrono::seconds(30));
  EXPECT_TRUE(parse_keep_alive(nlohmann::json(-1))->forever);
  EXPECT_EQ(parse_keep_alive(nlohmann::json("2s"))->duration, std::chrono::seconds(2));
  EXPECT_FALSE(parse_keep_alive(nlohmann::json(true)).is_ok());
  EXPECT_FALSE(parse_keep_alive_text("5 minutes").is_ok());
  EXPECT_FALSE(parse_keep_alive_text("m").is_ok());
}

TEST(Duration, Rfc3339) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(1700000000) + std::chrono::nanoseconds(1234)};
  EXPECT_EQ(format_rfc3339(t), "2023-11-14T22:13:20.000001234Z");
}

}  // namespace
}  // namespace sov::server
