// `sov eval -m FILE --tokens "ID ID ..." --logits OUT.f32 [--reference]`: evaluates the ids in
// one batch from position 0 and writes the logits of every position as little-endian float32,
// row-major [n_tokens, n_vocab] (the format of the shared reference logits.f32).
#include <fmt/format.h>

#include <cstdio>
#include <sstream>

#include "base/mapped_file.h"
#include "cli/command.h"
#include "cli/model_arg.h"
#include "engine/context.h"
#include "engine/reference/reference_forward.h"

namespace sov::cli {
namespace {

struct EvalOptions {
  std::string model;
  std::string tokens;
  std::string logits_path;
  int threads = 0;
  bool reference = false;
};

Result<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::istringstream in(text);
  std::vector<int32_t> ids;
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    long v = std::strtol(word.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v > INT32_MAX) return Status::invalid_argument("not a token id: '" + word + "'");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return Status::invalid_argument("--tokens is empty");
  return ids;
}

int run_eval(const EvalOptions& o) {
  auto ids = parse_ids(o.tokens);
  if (!ids) return fail(ids.status().message());
  auto model_path = model_file(o.model);  // a .gguf path or a store name
  if (!model_path) return fail(model_path.status().message());
  auto model = engine::Model::load(*model_path);
  if (!model) return fail(model.status().message());
  const int32_t n_vocab = (*model)->hparams().n_vocab;
  const size_t n = ids->size();
  std::vector<float> out(n * n_vocab);
  if (o.reference) {
    engine::ReferenceForward ref(**model, static_cast<int32_t>(n));
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> row = ref.step((*ids)[i]);
      if (row.empty()) return fail(fmt::format("token id {} is outside the vocabulary", (*ids)[i]));
      std::copy(row.begin(), row.end(), out.begin() + static_cast<long>(i * n_vocab));
    }
  } else {
    int32_t n_ctx = std::max<int32_t>(static_cast<int32_t>(n), engine::default_n_ctx((*model)->hparams()));
    auto ctx = engine::Context::create(*model, {.n_ctx = n_ctx, .n_threads = o.threads});
    if (!ctx) return fail(ctx.status().message());
    Status s = (*ctx)->decode(*ids, /*all_logits=*/true);
    if (!s) return fail(s.message());
    for (size_t i = 0; i < n; ++i) {
      auto row = (*ctx)->logits(static_cast<int>(i));
      std::copy(row.begin(), row.end(), out.begin() + static_cast<long>(i * n_vocab));
    }
  }
  Status s = write_file_atomic(o.logits_path,
                               std::string_view(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(float)));
  if (!s) return fail(s.message());
  std::fprintf(stderr, "wrote %zu x %d logits to %s\n", n, n_vocab, o.logits_path.c_str());
  return 0;
}

SOV_REGISTER_COMMAND(eval, Command{"eval", "Evaluate token ids and write the logits of every position",
                                   [](CLI::App& sub) -> std::function<int()> {
                                     auto o = std::make_shared<EvalOptions>();
                                     sub.add_option("-m,--model", o->model, "GGUF file or model name from the store")->required();
                                     sub.add_option("--tokens", o->tokens, "space-separated token ids")->required();
                                     sub.add_option("--logits", o->logits_path, "output file (float32)")->required();
                                     sub.add_option("-t,--threads", o->threads, "threads (default: physical cores)");
                                     sub.add_flag("--reference", o->reference, "use the scalar reference path");
                                     return [o] { return run_eval(*o); };
                                   }});

}  // namespace
}  // namespace sov::cli
