#include "server/security.h"

#include <gtest/gtest.h>

namespace sov::server {
namespace {

TEST(Glob, Wildcards) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("http://*.example.com", "http://a.b.example.com"));
  EXPECT_FALSE(glob_match("http://*.example.com", "http://example.com"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("exact", "exact"));
  EXPECT_FALSE(glob_match("exact", "exactly"));
}

TEST(HostHeader, PortIsStripped) {
  EXPECT_EQ(host_without_port("localhost:11434"), "localhost");
  EXPECT_EQ(host_without_port("[::1]:80"), "::1");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("::1"), "::1");
}

TEST(SecurityPolicy, LoopbackServerAcceptsOnlyLocalHosts) {
  ServerConfig c;
  c.host = "127.0.0.1";
  SecurityPolicy p(c);
  for (const char* ok : {"localhost", "localhost:11434", "127.0.0.1:11434", "127.1.2.3", "[::1]:11434",
                         "app.localhost", "LOCALHOST", ""}) {
    EXPECT_TRUE(p.host_allowed(ok)) << ok;
  }
  for (const char* bad :
       {"evil.example", "evil.example:11434", "localhost.evil.example", "10.0.0.1", "[::2]"}) {
    EXPECT_FALSE(p.host_allowed(bad)) << bad;
  }
}

TEST(SecurityPolicy, ExposedServerAcceptsAddressesButNotForeignNames) {
  ServerConfig c;
  c.host = "0.0.0.0";
  SecurityPolicy p(c);
  EXPECT_TRUE(p.host_allowed("192.168.1.20:11434"));
  EXPECT_TRUE(p.host_allowed("[fe80::1]:11434"));
  EXPECT_TRUE(p.host_allowed("localhost"));
  EXPECT_FALSE(p.host_allowed("attacker.example"));
}

TEST(SecurityPolicy, Origins) {
  ServerConfig c;
  c.origins = {"https://*.trusted.example"};
  SecurityPolicy p(c);
  EXPECT_TRUE(p.origin_allowed("http://localhost:3000", "localhost:11434"));
  EXPECT_TRUE(p.origin_allowed("http://127.0.0.1", "x"));
  EXPECT_TRUE(p.origin_allowed("https://app.trusted.example", "localhost:11434"));
  EXPECT_TRUE(p.origin_allowed("http://myhost:11434", "myhost:11434"));  // same origin
  EXPECT_FALSE(p.origin_allowed("https://evil.example", "localhost:11434"));
  EXPECT_FALSE(p.origin_allowed("http://localhost:80.evil.example", "localhost:11434"));
  EXPECT_FALSE(p.origin_allowed("http://localhost.evil.example", "localhost:11434"));
  EXPECT_FALSE(p.origin_allowed("null", "localhost:11434"));
  ServerConfig all;
  all.origins = {"*"};
  EXPECT_TRUE(SecurityPolicy(all).origin_allowed("https://anything.example", ""));
}

TEST(SecurityPolicy, ApiKey) {
  ServerConfig none;
  SecurityPolicy open(none);
  EXPECT_FALSE(open.requires_key("POST", "/api/chat"));
  EXPECT_TRUE(open.key_ok(""));
  ServerConfig c;
  c.api_key = "s3cret";
  SecurityPolicy p(c);
  EXPECT_TRUE(p.requires_key("POST", "/api/chat"));
  EXPECT_TRUE(p.requires_key("GET", "/metrics"));
  EXPECT_FALSE(p.requires_key("GET", "/"));
  EXPECT_FALSE(p.requires_key("GET", "/health"));
  EXPECT_FALSE(p.requires_key("GET", "/assets/js/main.js"));
  EXPECT_FALSE(p.requires_key("GET", "/sw.js"));
  EXPECT_TRUE(p.requires_key("POST", "/assets/js/main.js"));
  EXPECT_TRUE(p.requires_key("GET", "/api/tags"));
  EXPECT_FALSE(p.requires_key("OPTIONS", "/api/chat"));
  EXPECT_TRUE(p.key_ok("Bearer s3cret"));
  EXPECT_TRUE(p.key_ok("bearer s3cret"));
  EXPECT_FALSE(p.key_ok("Bearer s3cre"));
  EXPECT_FALSE(p.key_ok("Bearer s3cret2"));
  EXPECT_FALSE(p.key_ok("s3cret"));
  EXPECT_FALSE(p.key_ok(""));
}

}  // namespace
}  // namespace sov::server
