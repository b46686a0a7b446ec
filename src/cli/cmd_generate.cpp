// `sov generate -m FILE -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//  [--seed S] [--repeat-penalty R] [--ctx N] [-t THREADS]`: prints only the continuation to
// stdout as it is generated, and a timing line to stderr. --temp 0 is greedy.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "scheduler/sequence.h"

namespace sov::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string prompt;
  int32_t n_predict = 128;
  float temp = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.9f;
  float min_p = 0.0f;
  int64_t seed = -1;
  float repeat_penalty = 1.0f;  // llama.cpp's default: --temp 0 is plain greedy
  int32_t repeat_last_n = 64;
  int32_t ctx = 0;
  int threads = 0;
  bool truncate = false;
  std::vector<std::string> stop;
};

int run_generate(const GenerateOptions& o) {
  auto model = engine::Model::load(o.model);
  if (!model) return fail(model.status().message());
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  if (!tok) return fail(o.model + ": " + tok.status().message());
  auto ctx = engine::Context::create(*model, {.n_ctx = o.ctx, .n_threads = o.threads});
  if (!ctx) return fail(ctx.status().message());

  std::vector<int32_t> prompt = (*tok)->encode(o.prompt, /*add_special=*/true, /*parse_special=*/false);
  const int32_t n_ctx = (*ctx)->n_ctx();
  if (static_cast<int32_t>(prompt.size()) >= n_ctx) {
    if (!o.truncate) {
      return fail(fmt::format("the prompt has {} tokens but the context holds {}; use --ctx to raise it or "
                              "--truncate to keep the end of the prompt",
                              prompt.size(), n_ctx));
    }
    // Keep BOS (when the vocab adds it) and the most recent tokens, leaving room to generate.
    size_t keep = static_cast<size_t>(n_ctx / 2);
    bool bos = (*tok)->add_bos() && !prompt.empty() && prompt[0] == (*tok)->bos();
    std::vector<int32_t> kept(bos ? 1 : 0, bos ? prompt[0] : 0);
    kept.insert(kept.end(), prompt.end() - static_cast<long>(keep - kept.size()), prompt.end());
    std::fprintf(stderr, "warning: prompt truncated from %zu to %zu tokens\n", prompt.size(), kept.size());
    prompt = std::move(kept);
  }

  scheduler::GenerateParams params;
  params.sampler.temperature = o.temp;
  params.sampler.top_k = o.top_k;
  params.sampler.top_p = o.top_p;
  params.sampler.min_p = o.min_p;
  params.sampler.repeat_penalty = o.repeat_penalty;
  params.sampler.repeat_last_n = o.repeat_last_n;
  params.sampler.seed = o.seed < 0 ? sampling::SamplerParams::kRandomSeed : static_cast<uint64_t>(o.seed);
  params.max_tokens = o.n_predict;
  params.stop = o.stop;
  Status bad = params.sampler.validate();
  if (!bad) return fail(bad.message());

  scheduler::Sequence seq(std::move(ctx).value());
  auto result = seq.run(prompt, **tok, params, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!result) return fail(result.status().message());
  std::fprintf(stdout, "\n");
  const auto& r = *result;
  std::fprintf(stderr, "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | stop: %s\n", r.n_prompt,
               r.prompt_ms > 0 ? (r.n_prompt - r.n_cached) * 1000.0 / r.prompt_ms : 0.0, r.n_generated,
               r.generate_ms > 0 ? r.n_generated * 1000.0 / r.generate_ms : 0.0, r.done_reason.c_str());
  return 0;
}

SOV_REGISTER_COMMAND(generate, Command{"generate", "Generate a continuation of a prompt",
                                       [](CLI::App& sub) -> std::function<int()> {
                                         auto o = std::make_shared<GenerateOptions>();
                                         sub.add_option("-m,--model", o->model, "GGUF model file")->required();
                                         sub.add_option("-p,--prompt", o->prompt, "prompt text")->required();
                                         sub.add_option("-n,--n-predict", o->n_predict, "tokens to generate (-1: until the end)");
                                         sub.add_option("--temp", o->temp, "temperature (0: greedy)");
                                         sub.add_option("--top-k", o->top_k, "top-k (0: off)");
                                         sub.add_option("--top-p", o->top_p, "top-p (1: off)");
                                         sub.add_option("--min-p", o->min_p, "min-p (0: off)");
                                         sub.add_option("--seed", o->seed, "sampling seed (-1: random)");
                                         sub.add_option("--repeat-penalty", o->repeat_penalty, "repeat penalty (1: off)");
                                         sub.add_option("--repeat-last-n", o->repeat_last_n, "penalty window");
                                         sub.add_option("--ctx", o->ctx, "context length (default: min(4096, trained))");
                                         sub.add_option("-t,--threads", o->threads, "threads (default: physical cores)");
                                         sub.add_option("--stop", o->stop, "stop string (repeatable)");
                                         sub.add_flag("--truncate", o->truncate, "keep the end of a prompt that is too long");
                                         return [o] { return run_generate(*o); };
                                       }});

}  // namespace
}  // namespace sov::cli
