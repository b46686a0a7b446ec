// `sov quantize IN.gguf OUT.gguf TYPE [--threads N] [--allow-requantize]`: converts a model to
// another tensor format the way llama-quantize does (same per-tensor mixes, same bytes).
// TYPE is one of F32 F16 BF16 Q8_0 Q6_K Q5_K_M Q5_K_S Q5_1 Q5_0 Q4_K_M Q4_K_S Q4_1 Q4_0
// Q3_K_L Q3_K_M Q3_K_S Q2_K.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "base/thread_pool.h"
#include "cli/command.h"
#include "gguf/file.h"
#include "quant/model_quantize.h"

namespace sov::cli {
namespace {

struct QuantizeCliOptions {
  std::string input;
  std::string output;
  std::string type;
  int threads = 0;
  bool allow_requantize = false;
  bool quiet = false;
};

std::string type_list() {
  std::string s;
  for (std::string_view n : quant::file_type_names()) s += (s.empty() ? "" : " ") + std::string(n);
  return s;
}

int run_quantize(const QuantizeCliOptions& o) {
  auto ft = quant::parse_file_type(o.type);
  if (!ft) return fail(fmt::format("unknown quantization type '{}'; choose one of: {}", o.type, type_list()));
  std::error_code ec;
  if (std::filesystem::equivalent(o.input, o.output, ec))
    return fail("output would overwrite the input file");

  ThreadPool pool(o.threads);
  quant::QuantizeOptions opt;
  opt.type = *ft;
  opt.allow_requantize = o.allow_requantize;
  opt.pool = &pool;
  std::map<gguf::TensorType, int> counts;
  opt.progress = [&](size_t i, size_t n, const quant::TensorPlan& e) {
    ++counts[e.to];
    if (o.quiet) return;
    std::fprintf(stderr, "[%3zu/%3zu] %-40s %-5s -> %-5s%s\n", i + 1, n, e.name.c_str(),
                 std::string(gguf::type_name(e.from)).c_str(), std::string(gguf::type_name(e.to)).c_str(),
                 e.fallback ? " (fallback: rows do not fit the recipe's type)" : "");
  };
  const Status s = quant::quantize_model(o.input, o.output, opt);
  if (!s) {
    const bool requant = s.code() == ErrorCode::kInvalidArgument && !o.allow_requantize;
    return fail(s.message() + (requant ? " (--allow-requantize)" : ""));
  }

  std::string summary;
  for (const auto& [t, n] : counts)
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, gguf::type_name(t));
  std::error_code size_ec;
  const auto in_size = std::filesystem::file_size(o.input, size_ec);
  const auto out_size = std::filesystem::file_size(o.output, size_ec);
  std::printf("wrote %s: %s (%s); %.2f MB -> %.2f MB\n", o.output.c_str(),
              std::string(quant::file_type_name(*ft)).c_str(), summary.c_str(), in_size / 1e6,
              out_size / 1e6);
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(quantize,
                     Command{
                         "quantize", "Convert a GGUF model to another tensor format (like llama-quantize)",
                         [](CLI::App& sub) -> std::function<int()> {
                           auto o = std::make_shared<QuantizeCliOptions>();
                           sub.add_option("input", o->input, "source GGUF file")->required();
                           sub.add_option("output", o->output, "GGUF file to write")->required();
                           sub.add_option("type", o->type, "target type: " + type_list())->required();
                           sub.add_option("-t,--threads", o->threads, "threads (default: physical cores)");
                           sub.add_flag("--allow-requantize", o->allow_requantize,
                                        "allow converting tensors that are already quantized");
                           sub.add_flag("-q,--quiet", o->quiet, "no per-tensor progress");
                           return [o] { return run_quantize(*o); };
                         }});

}  // namespace sov::cli
