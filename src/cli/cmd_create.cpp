// `sov create NAME [-f Modelfile] [--quantize TYPE]`: builds a model from a Modelfile (FROM a
// store name or a .gguf path relative to the Modelfile, PARAMETER, TEMPLATE, SYSTEM, MESSAGE,
// LICENSE) and stores it under NAME. --quantize converts F32/F16/BF16 weights on the way.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/mapped_file.h"
#include "cli/command.h"
#include "store/config.h"
#include "store/modelfile.h"
#include "store/progress_bar.h"
#include "store/store.h"

namespace sov::cli {
namespace {

struct CreateCliOptions {
  std::string name;
  std::string file = "Modelfile";
  std::string quantize;
};

int run_create(const CreateCliOptions& o) {
  auto text = read_file(o.file);
  if (!text) return fail(text.status().message());
  if (text->size() > store::kMaxModelfileBytes) return fail(o.file + ": larger than 16 MiB");
  auto modelfile = store::parse_modelfile(*text);
  if (!modelfile) return fail(o.file + ": " + modelfile.status().message());
  std::error_code ec;
  std::string base_dir = std::filesystem::absolute(std::filesystem::path(o.file), ec).parent_path().string();
  auto request = store::create_request_from_modelfile(*modelfile, base_dir);
  if (!request) return fail(o.file + ": " + request.status().message());
  request->quantize = o.quantize;

  store::Store st(store::store_options_from_env(store::process_environment()));
  store::ProgressPrinter printer(stderr, ::isatty(STDERR_FILENO) != 0);
  Status s = st.create(
      o.name, *request, [&](const store::Progress& p) { printer.update(p); }, nullptr);
  printer.finish();
  if (!s) return fail(s.message());
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(create,
                     Command{"create", "Create a model from a Modelfile",
                             [](CLI::App& sub) -> std::function<int()> {
                               auto o = std::make_shared<CreateCliOptions>();
                               sub.add_option("name", o->name, "name of the new model")->required();
                               sub.add_option("-f,--file", o->file, "the Modelfile")->capture_default_str();
                               sub.add_option("-q,--quantize", o->quantize,
                                              "quantize the weights, e.g. Q4_K_M (from F32/F16/BF16)");
                               return [o] { return run_create(*o); };
                             }});

}  // namespace sov::cli
