// `sov list [--json]`: the models in the store (and in a read-only Ollama store), newest
// first, with Ollama's columns NAME, ID (start of the manifest digest), SIZE, MODIFIED.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "store/config.h"
#include "store/progress_bar.h"
#include "store/store.h"

namespace sov::cli {
namespace {

std::string ago(std::chrono::system_clock::time_point t) {
  const auto s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t).count();
  auto unit = [](long long n, const char* one) {
    return fmt::format("{} {}{} ago", n, one, n == 1 ? "" : "s");
  };
  if (s < 60) return "Less than a minute ago";
  if (s < 3600) return unit(s / 60, "minute");
  if (s < 86400) return unit(s / 3600, "hour");
  if (s < 86400 * 30) return unit(s / 86400, "day");
  if (s < 86400 * 365) return unit(s / (86400 * 30), "month");
  return unit(s / (86400 * 365), "year");
}

int run_list(bool json) {
  store::Store st(store::store_options_from_env(store::process_environment()));
  auto models = st.list();
  if (!models) return fail(models.status().message());
  std::stable_sort(models->begin(), models->end(),
                   [](const auto& a, const auto& b) { return a.modified > b.modified; });
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : *models) {
      out.push_back(
          {{"name", m.name},
           {"model", m.full_name},
           {"digest", m.digest},
           {"size", m.size},
           {"modified_at",
            std::chrono::duration_cast<std::chrono::seconds>(m.modified.time_since_epoch()).count()},
           {"read_only", m.read_only},
           {"path", m.gguf_path}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  size_t width = 4;
  for (const auto& m : *models) width = std::max(width, m.name.size());
  std::printf("%-*s   %-12s   %-8s   %s\n", static_cast<int>(width), "NAME", "ID", "SIZE", "MODIFIED");
  for (const auto& m : *models) {
    std::string id = m.digest.size() > 7 ? m.digest.substr(7, 12) : m.digest;
    std::printf("%-*s   %-12s   %-8s   %s%s\n", static_cast<int>(width), m.name.c_str(), id.c_str(),
                store::format_bytes(m.size).c_str(), ago(m.modified).c_str(),
                m.read_only ? "   (Ollama store, read-only)" : "");
  }
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(list, Command{"list", "List the models in the store",
                                   [](CLI::App& sub) -> std::function<int()> {
                                     auto json = std::make_shared<bool>(false);
                                     sub.alias("ls");
                                     sub.add_flag("--json", *json, "machine-readable output");
                                     return [json] { return run_list(*json); };
                                   }});

}  // namespace sov::cli
