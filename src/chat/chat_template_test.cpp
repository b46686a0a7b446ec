// Golden test: every case of testdata/chat_templates rendered byte for byte as real Jinja2
// (under transformers' settings) rendered it, and every expected error raised, with the same
// Python exception class (and, for raise_exception, the same message).
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/testdata.h"

namespace sov::chat {
namespace {

using json = nlohmann::ordered_json;

json load(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

RenderOptions fixed_date() {
  RenderOptions o;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;  // July
  tm.tm_mday = 26;
  tm.tm_wday = 5;  // Friday
  tm.tm_yday = 207;
  o.now = tm;
  return o;
}

// "TypeError at line 3, column 7: message" -> {"TypeError", "message"}
std::pair<std::string, std::string> split_error(const std::string& status_message) {
  size_t colon = status_message.find(": ");
  std::string head = status_message.substr(0, colon);
  std::string type = head.substr(0, head.find(' '));
  return {type, colon == std::string::npos ? "" : status_message.substr(colon + 2)};
}

std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) +
         "\n  want: " + json(want.substr(from, 120)).dump() +
         "\n  got:  " + json(got.substr(from, 120)).dump();
}

TEST(ChatTemplateGolden, AllCases) {
  SOV_REQUIRE_TESTDATA(root);
  std::filesystem::path dir = std::filesystem::path(root) / "chat_templates";
  ASSERT_TRUE(std::filesystem::exists(dir / "conversations.json")) << dir;
  json conversations = load(dir / "conversations.json");
  std::map<std::string, json> by_id;
  for (const auto& c : conversations["conversations"]) by_id[c["id"].get<std::string>()] = c;

  int total = 0, passed = 0, renders = 0, errors = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json" && entry.path().filename() != "conversations.json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    json t = load(file);
    const std::string name = t["template_name"].get<std::string>();
    auto tmpl = ChatTemplate::parse(t["template"].get<std::string>(), t["bos_token"].get<std::string>(),
                                    t["eos_token"].get<std::string>());
    ASSERT_TRUE(tmpl.is_ok()) << name << ": " << tmpl.status().to_string();
    for (const auto& c : t["cases"]) {
      ++total;
      const std::string id = c["conversation_id"].get<std::string>();
      const bool agp = c["add_generation_prompt"].get<bool>();
      const std::string label = name + " / " + id + (agp ? " / gen" : " / nogen");
      ChatRequest req;
      req.messages = by_id.at(id)["messages"];
      req.tools = c.contains("tools") ? c["tools"] : json(nullptr);
      req.add_generation_prompt = agp;
      if (c.contains("extra_context")) req.extra_context = c["extra_context"];
      auto out = tmpl->render(req, fixed_date());
      if (c.value("error", false)) {
        ++errors;
        if (out.is_ok()) {
          ADD_FAILURE() << label << ": expected " << c["error_type"] << " but rendered:\n" << out.value();
          continue;
        }
        auto [type, message] = split_error(out.status().message());
        const std::string want_type = c["error_type"].get<std::string>();
        const std::string want_message = c["error_message"].get<std::string>();
        if (type != want_type || (want_type == "TemplateError" && message != want_message)) {
          ADD_FAILURE() << label << ": expected " << want_type << ": " << want_message
                        << "\n  got: " << out.status().message();
          continue;
        }
        ++passed;
      } else {
        ++renders;
        if (!out.is_ok()) {
          ADD_FAILURE() << label << ": " << out.status().to_string();
          continue;
        }
        const std::string want = c["expected"].get<std::string>();
        if (out.value() != want) {
          ADD_FAILURE() << label << ": " << first_difference(want, out.value());
          continue;
        }
        ++passed;
      }
    }
  }
  std::cout << "chat template golden cases: " << passed << " / " << total << " passed (" << renders
            << " renderings, " << errors << " expected errors)\n";
  EXPECT_EQ(total, 1016);
  EXPECT_EQ(passed, total);
}

}  // namespace
}  // namespace sov::chat
