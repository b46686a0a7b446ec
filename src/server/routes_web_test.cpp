// The embedded browser UI: the asset table is complete (every file the page and its modules
// reference is there), GET / answers browsers with the page and other clients with the
// health text, headers (Content-Type, CSP, ETag, Cache-Control) are right, If-None-Match
// gives 304, and the static files stay reachable without the API key while the API does not.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "base/testdata.h"
#include "server/server_test_util.h"
#include "server/web_assets.h"

namespace sov::server {
namespace {

const char* kBrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

std::string text_of(const WebAsset& a) {
  return std::string(reinterpret_cast<const char*>(a.data), a.size);
}

TEST(WebAssets, TableIsSortedAndTyped) {
  auto assets = web_assets();
  ASSERT_GE(assets.size(), 8u);
  for (size_t i = 0; i < assets.size(); ++i) {
    const WebAsset& a = assets[i];
    EXPECT_EQ(a.path[0], '/') << a.path;
    EXPECT_GT(a.size, 0u) << a.path;
    EXPECT_EQ(std::string(a.etag).size(), 34u) << a.path;  // quoted 32 hex digits
    if (i) EXPECT_LT(std::string(assets[i - 1].path), std::string(a.path));
    const std::string path = a.path, type = a.content_type;
    if (path.ends_with(".js")) EXPECT_EQ(type, "text/javascript; charset=utf-8") << path;
    if (path.ends_with(".css")) EXPECT_EQ(type, "text/css; charset=utf-8") << path;
    if (path.ends_with(".html")) EXPECT_EQ(type, "text/html; charset=utf-8") << path;
    if (path.ends_with(".svg")) EXPECT_EQ(type, "image/svg+xml") << path;
  }
  EXPECT_EQ(web_ui_version().size(), 16u);
}

TEST(WebAssets, Lookup) {
  ASSERT_NE(find_web_asset("/"), nullptr);
  EXPECT_STREQ(find_web_asset("/")->path, "/index.html");
  EXPECT_NE(find_web_asset("/assets/js/main.js"), nullptr);
  EXPECT_NE(find_web_asset("/sw.js"), nullptr);
  EXPECT_NE(find_web_asset("/manifest.webmanifest"), nullptr);
  EXPECT_EQ(find_web_asset("/assets/js/nope.js"), nullptr);
  EXPECT_EQ(find_web_asset("/assets/../index.html"), nullptr);
  EXPECT_EQ(find_web_asset(""), nullptr);
}

// Every "/..." the page references and every relative import of every module is embedded,
// so a file forgotten in web/ui (or a typo in an import) fails here, not in a browser.
TEST(WebAssets, EveryReferenceResolves) {
  std::set<std::string> checked;
  const std::string page = text_of(*find_web_asset("/index.html"));
  std::regex attr(R"re((?:src|href)="(/[^"#]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), attr); it != std::sregex_iterator(); ++it) {
    std::string ref = (*it)[1].str();
    EXPECT_NE(find_web_asset(ref), nullptr) << "index.html references " << ref;
    checked.insert(ref);
  }
  std::regex import(R"re((?:import|from)\s*(?:\{[^}]*\}\s*from\s*)?'(\./[^']+)')re");
  for (const WebAsset& a : web_assets()) {
    std::string path = a.path;
    if (!path.ends_with(".js")) continue;
    std::string dir = path.substr(0, path.rfind('/') + 1);
    std::string js = text_of(a);
    for (auto it = std::sregex_iterator(js.begin(), js.end(), import); it != std::sregex_iterator(); ++it) {
      std::string ref = dir + (*it)[1].str().substr(2);
      EXPECT_NE(find_web_asset(ref), nullptr) << path << " imports " << ref;
      checked.insert(ref);
    }
  }
  EXPECT_GE(checked.size(), 6u);
}

TEST(WebAssets, ServiceWorkerHasTheBuildsAssetList) {
  const std::string sw = text_of(*find_web_asset("/sw.js"));
  EXPECT_EQ(sw.find("__SOV_BUILD__"), std::string::npos);
  EXPECT_NE(sw.find(std::string(web_ui_version())), std::string::npos);
  EXPECT_NE(sw.find("\"/assets/js/main.js\""), std::string::npos);
  EXPECT_NE(sw.find("\"/\""), std::string::npos);
}

TEST(AcceptsHtml, BrowsersButNotHealthChecks) {
  EXPECT_TRUE(accepts_html(kBrowserAccept));
  EXPECT_TRUE(accepts_html("TEXT/HTML"));
  EXPECT_FALSE(accepts_html("*/*"));  // curl
  EXPECT_FALSE(accepts_html(""));
  EXPECT_FALSE(accepts_html("application/json"));  // the ollama client
}

TEST(WebRoutes, RootServesPageToBrowsersAndTextToOthers) {
  SOV_REQUIRE_TESTDATA(data);
  test::TestServer srv(data);
  auto c = srv.client();

  auto plain = c.Get("/", {{"Accept", "*/*"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "Sovereign is running");
  auto none = c.Get("/");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->body, "Sovereign is running");

  auto page = c.Get("/", {{"Accept", kBrowserAccept}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script type=\"module\" src=\"/assets/js/main.js\">"), std::string::npos);
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(page->get_header_value("Vary"), "Accept");
  const std::string etag = page->get_header_value("ETag");
  EXPECT_EQ(etag, find_web_asset("/")->etag);

  auto again = c.Get("/", {{"Accept", kBrowserAccept}, {"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = c.Get("/", {{"Accept", kBrowserAccept}, {"If-None-Match", "\"0000\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST(WebRoutes, AssetsWithTypesAndNotFound) {
  SOV_REQUIRE_TESTDATA(data);
  test::TestServer srv(data);
  auto c = srv.client();
  for (const WebAsset& a : web_assets()) {
    auto res = c.Get(a.path);
    ASSERT_TRUE(res) << a.path;
    EXPECT_EQ(res->status, 200) << a.path;
    EXPECT_EQ(res->get_header_value("Content-Type"), a.content_type) << a.path;
    EXPECT_EQ(res->body, text_of(a)) << a.path;
    EXPECT_FALSE(res->get_header_value("Content-Security-Policy").empty()) << a.path;
  }
  auto head = c.Head("/assets/app.css");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto missing = c.Get("/assets/js/missing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto traversal = c.Get("/assets/../../etc/passwd");
  ASSERT_TRUE(traversal);
  EXPECT_EQ(traversal->status, 404);
}

TEST(WebRoutes, StaticFilesNeedNoKeyButTheApiDoes) {
  SOV_REQUIRE_TESTDATA(data);
  test::TestServer srv(data, [](ServerConfig& c) { c.api_key = "secret-key"; });
  auto c = srv.client();
  auto page = c.Get("/", {{"Accept", kBrowserAccept}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  for (const char* path : {"/assets/js/main.js", "/sw.js", "/manifest.webmanifest"}) {
    auto res = c.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path;
  }
  auto tags = c.Get("/api/tags");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->status, 401);
  auto keyed = c.Get("/api/tags", {{"Authorization", "Bearer secret-key"}});
  ASSERT_TRUE(keyed);
  EXPECT_EQ(keyed->status, 200);
}

TEST(WebRoutes, ForeignHostIsRefusedForThePageToo) {
  SOV_REQUIRE_TESTDATA(data);
  test::TestServer srv(data);
  auto c = srv.client();
  auto res = c.Get("/", {{"Accept", kBrowserAccept}, {"Host", "evil.example"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
}

}  // namespace
}  // namespace sov::server
