// `sov rm NAME...`: deletes models from the store; blobs no other model needs are removed
// too. A model that a running server has loaded keeps working (its file stays mapped).
#include <cstdio>

#include "cli/command.h"
#include "store/config.h"
#include "store/progress_bar.h"
#include "store/store.h"

namespace sov::cli {
namespace {

int run_rm(const std::vector<std::string>& names) {
  store::Store st(store::store_options_from_env(store::process_environment()));
  int rc = 0;
  for (const auto& name : names) {
    store::GcResult gc;
    Status s = st.remove(name, &gc);
    if (!s) {
      rc = fail(s.message());
      continue;
    }
    std::printf("deleted '%s'", name.c_str());
    if (gc.removed > 0) std::printf(" (freed %s)", store::format_bytes(gc.bytes).c_str());
    std::printf("\n");
  }
  return rc;
}

}  // namespace

SOV_REGISTER_COMMAND(rm,
                     Command{"rm", "Remove models from the store", [](CLI::App& sub) -> std::function<int()> {
                               auto names = std::make_shared<std::vector<std::string>>();
                               sub.add_option("names", *names, "models to remove")->required();
                               return [names] { return run_rm(*names); };
                             }});

}  // namespace sov::cli
