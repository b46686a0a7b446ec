// `sov cp SOURCE DESTINATION`: gives a model a second name (the blobs are shared). A model
// from a read-only Ollama store is brought into the writable store this way.
#include <cstdio>

#include "cli/command.h"
#include "store/config.h"
#include "store/store.h"

namespace sov::cli {
namespace {

int run_cp(const std::string& src, const std::string& dst) {
  store::Store st(store::store_options_from_env(store::process_environment()));
  Status s = st.copy(src, dst);
  if (!s) return fail(s.message());
  std::printf("copied '%s' to '%s'\n", src.c_str(), dst.c_str());
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(cp,
                     Command{"cp", "Copy a model to a new name", [](CLI::App& sub) -> std::function<int()> {
                               auto src = std::make_shared<std::string>();
                               auto dst = std::make_shared<std::string>();
                               sub.add_option("source", *src, "existing model")->required();
                               sub.add_option("destination", *dst, "new name")->required();
                               return [src, dst] { return run_cp(*src, *dst); };
                             }});

}  // namespace sov::cli
