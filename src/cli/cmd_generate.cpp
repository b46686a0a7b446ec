// `sov generate -m FILE -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//  [--seed S] [--repeat-penalty R] [--ctx N] [-t THREADS]`: prints only the continuation to
// stdout as it is generated, and a timing line to stderr. --temp 0 is greedy.
// Structured output: --grammar FILE (GBNF), --json-schema FILE or --json (any JSON object)
// constrain every sampled token (through the scheduler's grammar constraint).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "base/mapped_file.h"
#include "cli/command.h"
#include "cli/model_arg.h"
#include "grammar/json_schema.h"
#include "scheduler/scheduler.h"
#include "scheduler/sequence.h"
#include "server/grammar_constraint.h"

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
  std::string grammar_file;
  std::string schema_file;
  bool json = false;
};

// The grammar asked for on the command line, or nullptr.
Result<std::shared_ptr<const grammar::Grammar>> cli_grammar(const GenerateOptions& o) {
  const int n = !o.grammar_file.empty() + !o.schema_file.empty() + o.json;
  if (n > 1) return Status::invalid_argument("use only one of --grammar, --json-schema and --json");
  if (o.json) return grammar::Grammar::parse(grammar::json_object_gbnf());
  if (!o.grammar_file.empty()) {
    SOV_ASSIGN_OR_RETURN(std::string text, read_file(o.grammar_file));
    auto g = grammar::Grammar::parse(text);
    if (!g) return g.status().with_context(o.grammar_file);
    return g;
  }
  if (!o.schema_file.empty()) {
    SOV_ASSIGN_OR_RETURN(std::string text, read_file(o.schema_file));
    auto schema = nlohmann::ordered_json::parse(text, nullptr, false);
    if (schema.is_discarded()) return Status::invalid_argument(o.schema_file + ": not valid JSON");
    auto gbnf = grammar::json_schema_to_gbnf(schema);
    if (!gbnf) return gbnf.status().with_context(o.schema_file);
    return grammar::Grammar::parse(*gbnf);
  }
  return std::shared_ptr<const grammar::Grammar>();
}

// Generation with a grammar: one scheduler slot, the grammar as its logits constraint.
int run_constrained(const GenerateOptions& o, std::shared_ptr<const engine::Model> model,
                    std::shared_ptr<const tokenizer::Tokenizer> tok, std::vector<int32_t> prompt,
                    const scheduler::GenerateParams& params, std::shared_ptr<const grammar::Grammar> g) {
  auto sched =
      scheduler::Scheduler::create(model, tok, {.n_slots = 1, .n_ctx = o.ctx, .n_threads = o.threads});
  if (!sched) return fail(sched.status().message());
  scheduler::JobRequest req;
  req.prompt = std::move(prompt);
  req.params = params;
  req.constraint = std::make_shared<server::GrammarConstraint>(std::move(g), server::vocab_index(tok));
  auto job = (*sched)->submit(std::move(req));
  if (!job) return fail(job.status().message());
  scheduler::JobEvent ev;
  for (;;) {
    if (!(*job)->next(&ev, std::chrono::milliseconds(1000))) continue;
    if (ev.kind == scheduler::JobEvent::Kind::kText) {
      std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
      std::fflush(stdout);
    } else if (ev.kind == scheduler::JobEvent::Kind::kError) {
      return fail(ev.error.message());
    } else {
      break;
    }
  }
  std::fprintf(stdout, "\n");
  const auto& st = ev.stats;
  std::fprintf(stderr, "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | stop: %s\n",
               st.n_prompt,
               st.prompt_ns > 0 ? (st.n_prompt - st.n_cached) * 1e9 / static_cast<double>(st.prompt_ns) : 0.0,
               st.n_generated, st.eval_ns > 0 ? st.n_generated * 1e9 / static_cast<double>(st.eval_ns) : 0.0,
               st.done_reason.c_str());
  return 0;
}

int run_generate(const GenerateOptions& o) {
  auto model_path = model_file(o.model);  // a .gguf path or a store name
  if (!model_path) return fail(model_path.status().message());
  auto model = engine::Model::load(*model_path);
  if (!model) return fail(model.status().message());
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  if (!tok) return fail(o.model + ": " + tok.status().message());
  auto constraint = cli_grammar(o);
  if (!constraint) return fail(constraint.status().message());
  auto ctx = engine::Context::create(*model, {.n_ctx = o.ctx, .n_threads = o.threads});
  if (!ctx) return fail(ctx.status().message());

  std::vector<int32_t> prompt = (*tok)->encode(o.prompt, /*add_special=*/true, /*parse_special=*/false);
  const int32_t n_ctx = (*ctx)->n_ctx();
  if (static_cast<int32_t>(prompt.size()) >= n_ctx) {
    if (!o.truncate) {
      return fail(
          fmt::format("the prompt has {} tokens but the context holds {}; use --ctx to raise it or "
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

  if (*constraint) {
    ctx->reset();  // the scheduler makes its own context
    return run_constrained(o, *model, std::move(tok).value(), std::move(prompt), params, *constraint);
  }
  scheduler::Sequence seq(std::move(ctx).value());
  auto result = seq.run(prompt, **tok, params, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!result) return fail(result.status().message());
  std::fprintf(stdout, "\n");
  const auto& r = *result;
  std::fprintf(stderr, "prompt: %d tokens, %.1f tok/s | generated: %d tokens, %.1f tok/s | stop: %s\n",
               r.n_prompt, r.prompt_ms > 0 ? (r.n_prompt - r.n_cached) * 1000.0 / r.prompt_ms : 0.0,
               r.n_generated, r.generate_ms > 0 ? r.n_generated * 1000.0 / r.generate_ms : 0.0,
               r.done_reason.c_str());
  return 0;
}

SOV_REGISTER_COMMAND(
    generate,
    Command{"generate", "Generate a continuation of a prompt", [](CLI::App& sub) -> std::function<int()> {
              auto o = std::make_shared<GenerateOptions>();
              sub.add_option("-m,--model", o->model, "GGUF file or model name from the store")->required();
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
              sub.add_option("--grammar", o->grammar_file, "constrain the output to a GBNF grammar file");
              sub.add_option("--json-schema", o->schema_file,
                             "constrain the output to JSON valid against a JSON Schema file");
              sub.add_flag("--json", o->json, "constrain the output to a JSON object");
              return [o] { return run_generate(*o); };
            }});

}  // namespace
}  // namespace sov::cli
