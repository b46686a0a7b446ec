// `sov embed -m FILE [--json] [--no-normalize] [--truncate] [--pooling P] [--dimensions N]
//  [-t THREADS] [TEXT...]`: embeds each TEXT (or each line of stdin when there is none) with
// an embedding model (bert, nomic-bert) or a decoder model (its final hidden state, last-token
// pooling unless the file or --pooling says otherwise) and prints one line per text of
// space-separated floats, or with --json `{"embeddings": [[...], ...]}`. All texts run as one
// batch.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/model_arg.h"
#include "engine/encoder/embedding_model.h"

namespace sov::cli {
namespace {

struct EmbedCliOptions {
  std::string model;
  std::vector<std::string> texts;
  bool json = false;
  bool no_normalize = false;
  bool truncate = false;
  std::string pooling;
  int32_t dimensions = 0;
  int threads = 0;
};

// Shortest text that reads back as the same float; JSON has no NaN or infinity.
void append_float(std::string* out, float v, bool json) {
  if (json && !std::isfinite(v)) {
    *out += "null";
  } else {
    *out += fmt::format("{}", v);
  }
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

int run_embed(const EmbedCliOptions& o) {
  engine::EmbedOptions options;
  options.normalize = !o.no_normalize;
  options.truncate = o.truncate;
  options.dimensions = o.dimensions;
  if (!o.pooling.empty()) {
    auto p = engine::parse_pooling(o.pooling);
    if (!p) return fail(p.status().message());
    options.pooling = *p;
  }
  std::vector<std::string> texts = o.texts.empty() ? read_lines(std::cin) : o.texts;

  auto model_path = model_file(o.model);  // a .gguf path or a store name
  if (!model_path) return fail(model_path.status().message());
  auto model = engine::EmbeddingModel::load(*model_path, {.n_threads = o.threads});
  if (!model) return fail(model.status().message());
  auto result = (*model)->embed(texts, options);
  if (!result) return fail(result.status().message());

  std::string out;
  if (o.json) out += "{\"embeddings\": [";
  for (size_t i = 0; i < result->embeddings.size(); ++i) {
    if (o.json) out += i ? ", [" : "[";
    const std::vector<float>& e = result->embeddings[i];
    for (size_t j = 0; j < e.size(); ++j) {
      if (j) out += o.json ? ", " : " ";
      append_float(&out, e[j], o.json);
    }
    out += o.json ? "]" : "\n";
  }
  if (o.json) out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(
    embed,
    Command{"embed", "Print the embedding of each text (of each stdin line without TEXT)",
            [](CLI::App& sub) -> std::function<int()> {
              auto o = std::make_shared<EmbedCliOptions>();
              sub.add_option("-m,--model", o->model, "GGUF file or model name of an embedding model (bert, nomic-bert)")->required();
              sub.add_flag("--json", o->json, "Print {\"embeddings\": [[...], ...]}");
              sub.add_flag("--no-normalize", o->no_normalize, "Do not L2-normalise the vectors");
              sub.add_flag("--truncate", o->truncate,
                           "Cut texts longer than the model's context instead of failing");
              sub.add_option("--pooling", o->pooling, "none|mean|cls|last (default: the model's)");
              sub.add_option("--dimensions", o->dimensions, "Keep the first N values (before normalising)")
                  ->check(CLI::NonNegativeNumber);
              sub.add_option("-t,--threads", o->threads, "Threads (default: physical cores)")
                  ->check(CLI::NonNegativeNumber);
              sub.add_option("text", o->texts, "Texts (default: one per stdin line)");
              return [o] { return run_embed(*o); };
            }});

}  // namespace sov::cli
