// `sov kb ...`: knowledge bases over the user's folders (src/kb).
//
//   sov kb create NAME [--embed-model MODEL] [--chunk-tokens N] [--overlap-tokens N]
//   sov kb list
//   sov kb rm NAME
//   sov kb status NAME [--json]
//   sov kb add NAME PATH... [--watch] [--max-file-size BYTES] [-q]
//   sov kb search NAME QUERY [-k K] [--mode keyword|vector|hybrid] [--path GLOB] [--json]
//                 [--after DATE] [--before DATE] [--mmr]
//   sov kb ask NAME QUESTION [-m MODEL] [-k K] [--budget TOKENS] [-n N] [--temp T] [--seed S]
//   sov kb set-model NAME MODEL|none      (re-embeds everything; interrupted, it resumes)
//
// Bases live under $SOV_HOME/kb (default ~/.sovereign/kb). `add` draws a progress bar on a
// terminal only, prints each skipped file with its reason to stderr, and ends with a
// summary line on stdout. `search --json` prints
// {"results": [{"path": ..., "lines": [first, last], "score": ..., "text": ...}, ...]}.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "chat/chat_prompt.h"
#include "cli/command.h"
#include "engine/context.h"
#include "engine/model.h"
#include "kb/answer.h"
#include "kb/indexer.h"
#include "kb/knowledge_base.h"
#include "kb/registry.h"
#include "kb/retrieve.h"
#include "kb/watch.h"
#include "scheduler/sequence.h"
#include "store/config.h"
#include "store/progress_bar.h"

namespace sov::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

std::string root() {
  return kb::kb_root(store::process_environment());
}

Result<std::unique_ptr<kb::KnowledgeBase>> open_base(const std::string& name) {
  SOV_ASSIGN_OR_RETURN(std::string dir, kb::kb_dir(root(), name));
  auto base = kb::KnowledgeBase::open(dir);
  if (!base && base.status().code() == ErrorCode::kNotFound)
    return Status::not_found(fmt::format("knowledge base \"{}\" not found (sov kb create {})", name, name));
  if (!base)
    return Status(base.status().code(),
                  fmt::format("knowledge base \"{}\": {}", name, base.status().message()));
  return base;
}

// The base's embedding model, or null for a keyword-only base.
Result<std::unique_ptr<kb::Embedder>> open_embedder(const kb::KnowledgeBase& base) {
  if (base.settings().embed_model.empty()) return std::unique_ptr<kb::Embedder>();
  return kb::load_embedder(base.settings().embed_model, store::process_environment());
}

// One redrawn line on a terminal; nothing otherwise.
class ProgressLine {
 public:
  ProgressLine() : tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() { clear(); }
  void update(const kb::AddProgress& p) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(80) && p.done != p.total) return;
    last_ = now;
    constexpr int kWidth = 24;
    int filled = p.total > 0 ? static_cast<int>(kWidth * p.done / p.total) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::string name = p.path;
    if (name.size() > 40) name = "..." + name.substr(name.size() - 37);
    std::string line = p.total > 0 ? fmt::format("{} [{}] {}/{} {}", p.phase, bar, p.done, p.total, name)
                                   : fmt::format("{}...", p.phase);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    open_ = true;
  }
  void clear() {
    if (open_) std::fprintf(stderr, "\r\033[K");
    open_ = false;
  }

 private:
  bool tty_;
  bool open_ = false;
  std::chrono::steady_clock::time_point last_{};
};

std::string summary_line(const kb::AddSummary& s) {
  return fmt::format(
      "added {}, updated {}, renamed {}, removed {}, unchanged {}, skipped {} files; {} chunks", s.added,
      s.updated, s.renamed, s.removed, s.unchanged, s.skipped.size(), s.chunks);
}

// --- create / list / rm / status ----------------------------------------------------------

struct CreateOptions {
  std::string name, embed_model;
  int32_t chunk_tokens = 256, overlap_tokens = 32;
};

int run_create(const CreateOptions& o) {
  auto dir = kb::kb_dir(root(), o.name);
  if (!dir) return fail(dir.status().message());
  if (auto existing = kb::KnowledgeBase::open(*dir); existing)
    return fail(fmt::format("knowledge base \"{}\" already exists", o.name));
  if (o.chunk_tokens < 16 || o.overlap_tokens < 0 || o.overlap_tokens >= o.chunk_tokens)
    return fail("--chunk-tokens must be at least 16 and --overlap-tokens below it");
  std::unique_ptr<kb::Embedder> embedder;
  if (!o.embed_model.empty()) {
    auto e = kb::load_embedder(o.embed_model, store::process_environment());
    if (!e) return fail(e.status().message());
    embedder = std::move(e).value();
  }
  kb::KbSettings settings;
  settings.embed_model = o.embed_model;
  settings.chunk_tokens = o.chunk_tokens;
  settings.overlap_tokens = o.overlap_tokens;
  auto base = kb::KnowledgeBase::create(*dir, settings);
  if (!base)
    return fail(fmt::format("cannot create knowledge base \"{}\": {}", o.name, base.status().message()));
  if (embedder) {
    Status s = (*base)->set_embed_model(o.embed_model, embedder->dim());
    if (!s) return fail(s.message());
  }
  std::printf("created knowledge base %s (%s)\n", o.name.c_str(),
              o.embed_model.empty()
                  ? "keyword search only"
                  : fmt::format("embedding model {}, {} dimensions", o.embed_model, embedder->dim()).c_str());
  return 0;
}

int run_list() {
  std::vector<std::string> names = kb::list_kbs(root());
  std::printf("%-24s %10s %10s %12s  %s\n", "NAME", "DOCUMENTS", "CHUNKS", "SIZE", "EMBEDDING MODEL");
  for (const std::string& name : names) {
    auto base = open_base(name);
    if (!base) {
      std::printf("%-24s %s\n", name.c_str(), base.status().message().c_str());
      continue;
    }
    auto st = (*base)->status();
    if (!st) continue;
    std::printf("%-24s %10lld %10lld %12s  %s\n", name.c_str(), static_cast<long long>(st->documents),
                static_cast<long long>(st->chunks),
                store::format_bytes(static_cast<uint64_t>(st->bytes)).c_str(),
                st->settings.embed_model.empty() ? "-" : st->settings.embed_model.c_str());
  }
  return 0;
}

int run_rm(const std::string& name) {
  Status s = kb::remove_kb(root(), name);
  if (!s) return fail(s.message());
  std::printf("removed knowledge base %s\n", name.c_str());
  return 0;
}

int run_status(const std::string& name, bool json) {
  auto base = open_base(name);
  if (!base) return fail(base.status().message());
  auto st = (*base)->status();
  if (!st) return fail(st.status().message());
  if (json) {
    nlohmann::json j = {{"name", name},
                        {"path", (*base)->dir()},
                        {"embed_model", st->settings.embed_model},
                        {"embed_dim", st->embed_dim},
                        {"documents", st->documents},
                        {"chunks", st->chunks},
                        {"chunks_embedded", st->chunks_embedded},
                        {"bytes", st->bytes},
                        {"chunk_tokens", st->settings.chunk_tokens},
                        {"overlap_tokens", st->settings.overlap_tokens}};
    if (st->progress)
      j["progress"] = {{"phase", st->progress->phase},
                       {"done", st->progress->done},
                       {"total", st->progress->total},
                       {"running", st->progress->running}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("name:            %s\n", name.c_str());
  std::printf("path:            %s\n", (*base)->dir().c_str());
  std::printf("documents:       %lld (%s)\n", static_cast<long long>(st->documents),
              store::format_bytes(static_cast<uint64_t>(st->bytes)).c_str());
  std::printf("chunks:          %lld (%d tokens, %d overlap)\n", static_cast<long long>(st->chunks),
              st->settings.chunk_tokens, st->settings.overlap_tokens);
  if (st->settings.embed_model.empty()) {
    std::printf("embedding model: none (keyword search only)\n");
  } else {
    std::printf("embedding model: %s (%d dimensions)\n", st->settings.embed_model.c_str(), st->embed_dim);
    std::printf("embedded chunks: %lld of %lld%s\n", static_cast<long long>(st->chunks_embedded),
                static_cast<long long>(st->chunks),
                st->chunks_embedded < st->chunks
                    ? " (re-embedding pending: run sov kb add or sov kb set-model)"
                    : "");
  }
  if (st->progress) {
    std::printf("writer:          %s %lld/%lld%s\n", st->progress->phase.c_str(),
                static_cast<long long>(st->progress->done), static_cast<long long>(st->progress->total),
                st->progress->running ? " (running)" : " (interrupted; run it again to finish)");
  }
  return 0;
}

// --- add / set-model ----------------------------------------------------------------------

struct AddCliOptions {
  std::string name;
  std::vector<std::string> paths;
  bool watch = false;
  bool quiet = false;
  int64_t max_file_size = 0;
};

void print_skipped(const kb::AddSummary& s, bool quiet) {
  if (quiet) return;
  for (const auto& k : s.skipped) std::fprintf(stderr, "skipped %s: %s\n", k.path.c_str(), k.reason.c_str());
}

int run_add(const AddCliOptions& o) {
  auto base = open_base(o.name);
  if (!base) return fail(base.status().message());
  auto embedder = open_embedder(**base);
  if (!embedder) return fail(embedder.status().message());
  ProgressLine progress;
  kb::AddOptions options;
  options.max_file_bytes = o.max_file_size;
  options.progress = [&](const kb::AddProgress& p) { progress.update(p); };
  options.cancelled = [] { return g_stop.load(); };
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (*embedder) {
    // Vectors left stale by a model change (or an interrupted run) first.
    auto n = kb::embed_stale(**base, **embedder, options);
    progress.clear();
    if (!n) return fail(n.status().message());
  }
  if (o.watch) {
    Status s = kb::watch_paths(
        **base, o.paths, embedder->get(), options,
        [&](const kb::AddSummary& sum) {
          progress.clear();
          print_skipped(sum, o.quiet);
          std::printf("%s\n", summary_line(sum).c_str());
          std::fflush(stdout);
        },
        g_stop);
    progress.clear();
    if (!s) return fail(s.message());
    return 0;
  }
  auto sum = kb::add_paths(**base, o.paths, embedder->get(), options);
  progress.clear();
  if (!sum) return fail(sum.status().message());
  print_skipped(*sum, o.quiet);
  std::printf("%s\n", summary_line(*sum).c_str());
  if (g_stop) {
    std::fprintf(stderr, "interrupted: run the same command again to finish\n");
    return 130;
  }
  return 0;
}

int run_set_model(const std::string& name, const std::string& model) {
  auto base = open_base(name);
  if (!base) return fail(base.status().message());
  if (model == "none") {
    Status s = (*base)->set_embed_model("", 0);
    if (!s) return fail(s.message());
    std::printf("knowledge base %s: keyword search only\n", name.c_str());
    return 0;
  }
  auto embedder = kb::load_embedder(model, store::process_environment());
  if (!embedder) return fail(embedder.status().message());
  if ((*base)->settings().embed_model != model || (*base)->embed_dim() != (*embedder)->dim()) {
    Status s = (*base)->set_embed_model(model, (*embedder)->dim());
    if (!s) return fail(s.message());
  }
  ProgressLine progress;
  kb::AddOptions options;
  options.progress = [&](const kb::AddProgress& p) { progress.update(p); };
  options.cancelled = [] { return g_stop.load(); };
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  auto n = kb::embed_stale(**base, **embedder, options);
  progress.clear();
  if (!n) return fail(n.status().message());
  std::printf("knowledge base %s: embedding model %s, %lld chunks embedded\n", name.c_str(), model.c_str(),
              static_cast<long long>(*n));
  return g_stop ? 130 : 0;
}

// --- search -------------------------------------------------------------------------------

// "2024-03-01" or unix seconds.
Result<int64_t> parse_date(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  struct tm tm {};
  const char* end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (!end || *end) return Status::invalid_argument(fmt::format("\"{}\" is not a date (YYYY-MM-DD)", text));
  return static_cast<int64_t>(timegm(&tm));
}

struct SearchCliOptions {
  std::string name, query, mode, path, after, before;
  int32_t k = 5;
  bool json = false;
  bool mmr = false;
};

Result<kb::SearchQuery> make_query(const SearchCliOptions& o) {
  kb::SearchQuery q;
  q.text = o.query;
  q.k = o.k;
  q.path_glob = o.path;
  q.mmr = o.mmr;
  if (!o.mode.empty()) {
    SOV_ASSIGN_OR_RETURN(q.mode, kb::parse_search_mode(o.mode));
  }
  if (!o.after.empty()) {
    SOV_ASSIGN_OR_RETURN(q.modified_after, parse_date(o.after));
  }
  if (!o.before.empty()) {
    SOV_ASSIGN_OR_RETURN(q.modified_before, parse_date(o.before));
  }
  return q;
}

int run_search(const SearchCliOptions& o) {
  auto q = make_query(o);
  if (!q) return fail(q.status().message());
  auto base = open_base(o.name);
  if (!base) return fail(base.status().message());
  std::unique_ptr<kb::Embedder> embedder;
  if (q->mode != kb::SearchMode::kKeyword) {
    auto e = open_embedder(**base);
    if (!e) return fail(e.status().message());
    embedder = std::move(e).value();
  }
  auto hits = kb::search(**base, *q, embedder.get());
  if (!hits) return fail(hits.status().message());
  if (o.json) {
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& h : *hits)
      results.push_back(
          {{"path", h.path}, {"lines", {h.line_first, h.line_last}}, {"score", h.score}, {"text", h.text}});
    nlohmann::ordered_json out = {{"results", results}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (hits->empty()) {
    std::printf("no results\n");
    return 0;
  }
  int i = 0;
  for (const auto& h : *hits) {
    std::printf("%d. %s:%d-%d  (score %.4g)%s\n", ++i, h.path.c_str(), h.line_first, h.line_last, h.score,
                h.heading.empty() ? "" : ("  " + h.heading).c_str());
    // The first lines of the chunk, indented.
    size_t pos = 0;
    for (int line = 0; line < 3 && pos < h.text.size(); ++line) {
      size_t nl = h.text.find('\n', pos);
      std::string l = h.text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if (l.size() > 160) l = l.substr(0, 157) + "...";
      std::printf("   %s\n", l.c_str());
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  return 0;
}

// --- ask ----------------------------------------------------------------------------------

struct AskOptions {
  std::string name, question, model;
  int32_t k = 6;
  int32_t budget = 1536;
  int32_t n_predict = 512;
  int32_t ctx = 0;
  float temp = 0.2f;
  int64_t seed = -1;
  int threads = 0;
};

int run_ask(const AskOptions& o) {
  auto base = open_base(o.name);
  if (!base) return fail(base.status().message());
  auto embedder = open_embedder(**base);
  if (!embedder) return fail(embedder.status().message());
  kb::SearchQuery q;
  q.text = o.question;
  q.k = o.k;
  auto hits = kb::search(**base, q, embedder->get());
  if (!hits) return fail(hits.status().message());

  if (o.model.empty()) {
    // No model to answer with: show what an answer would be grounded in.
    auto p = kb::build_grounded_prompt(o.question, *hits, o.budget);
    std::fprintf(stderr, "no model given (-m MODEL); the most relevant sources are:\n");
    std::printf("%s", kb::format_sources(p.sources).c_str());
    return 0;
  }
  auto resolved = store::resolve_model_argument(o.model);
  if (!resolved) return fail(resolved.status().message());
  auto model = engine::Model::load(resolved->gguf_path);
  if (!model) return fail(model.status().message());
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  if (!tok) return fail(o.model + ": " + tok.status().message());
  auto ctx = engine::Context::create(*model, {.n_ctx = o.ctx, .n_threads = o.threads});
  if (!ctx) return fail(ctx.status().message());
  const auto& t = **tok;
  auto found = (*model)->file().get_string("tokenizer.chat_template");
  chat::ChatPrompt prompt = chat::ChatPrompt::create(
      found ? *found : "", t.bos() >= 0 ? t.piece(t.bos()) : "", t.eos() >= 0 ? t.piece(t.eos()) : "");
  auto tokenize = [&](const std::string& text) {
    bool add_bos = !(t.bos() >= 0 && !t.piece(t.bos()).empty() && text.starts_with(t.piece(t.bos())));
    return t.encode(text, add_bos, /*parse_special=*/true);
  };
  auto count = [&](std::string_view s) { return static_cast<int32_t>(t.encode(s, false, false).size()); };

  // Sources get what the context leaves after the question, the answer and the template.
  const int32_t n_ctx = (*ctx)->n_ctx();
  const int32_t reserve = o.n_predict > 0 ? std::min(o.n_predict, n_ctx / 2) : n_ctx / 4;
  const int32_t room = n_ctx - reserve - count(o.question) - 64;
  kb::GroundedPrompt grounded =
      kb::build_grounded_prompt(o.question, *hits, std::max(0, std::min(o.budget, room)), count);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", grounded.system}});
  messages.push_back({{"role", "user"}, {"content", grounded.user}});
  auto text = prompt.render(messages);
  if (!text) return fail(text.status().message());
  std::vector<int32_t> tokens = tokenize(*text);
  if (static_cast<int32_t>(tokens.size()) >= n_ctx)
    return fail(fmt::format("the prompt has {} tokens but the context holds {}; use --budget or --ctx",
                            tokens.size(), n_ctx));

  scheduler::GenerateParams params;
  params.sampler.temperature = o.temp;
  params.sampler.seed = o.seed < 0 ? sampling::SamplerParams::kRandomSeed : static_cast<uint64_t>(o.seed);
  params.max_tokens = o.n_predict;
  params.stop = prompt.stops();
  scheduler::Sequence seq(std::move(ctx).value());
  auto result = seq.run(tokens, t, params, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return !g_stop.load();
  });
  if (!result) return fail(result.status().message());
  std::printf("\n\nSources:\n%s",
              grounded.sources.empty() ? "(none found)\n" : kb::format_sources(grounded.sources).c_str());
  return 0;
}

// --- registration -------------------------------------------------------------------------

std::function<int()> setup_kb(CLI::App& app) {
  app.require_subcommand(1);
  auto selected = std::make_shared<std::function<int()>>();

  {
    auto* sub = app.add_subcommand("create", "Create a knowledge base");
    auto o = std::make_shared<CreateOptions>();
    sub->add_option("name", o->name, "Name of the base")->required();
    sub->add_option("--embed-model", o->embed_model,
                    "Embedding model (store name or .gguf path); none: keyword only");
    sub->add_option("--chunk-tokens", o->chunk_tokens, "Tokens per chunk (default 256)");
    sub->add_option("--overlap-tokens", o->overlap_tokens, "Tokens repeated between chunks (default 32)");
    sub->callback([o, selected] { *selected = [o] { return run_create(*o); }; });
  }
  {
    auto* sub = app.add_subcommand("list", "List knowledge bases");
    sub->callback([selected] { *selected = [] { return run_list(); }; });
  }
  {
    auto* sub = app.add_subcommand("rm", "Delete a knowledge base");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "Name of the base")->required();
    sub->callback([name, selected] { *selected = [name] { return run_rm(*name); }; });
  }
  {
    auto* sub = app.add_subcommand("status", "Show a knowledge base's contents and progress");
    auto name = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    sub->add_option("name", *name, "Name of the base")->required();
    sub->add_flag("--json", *json, "Print JSON");
    sub->callback([name, json, selected] { *selected = [name, json] { return run_status(*name, *json); }; });
  }
  {
    auto* sub = app.add_subcommand("add", "Index files and folders (again: only what changed)");
    auto o = std::make_shared<AddCliOptions>();
    sub->add_option("name", o->name, "Name of the base")->required();
    sub->add_option("paths", o->paths, "Files and folders")->required();
    sub->add_flag("--watch", o->watch, "Keep indexing changes until interrupted");
    sub->add_option("--max-file-size", o->max_file_size,
                    "Skip files larger than this many bytes (default 32 MiB)");
    sub->add_flag("-q,--quiet", o->quiet, "Do not list skipped files");
    sub->callback([o, selected] { *selected = [o] { return run_add(*o); }; });
  }
  {
    auto* sub = app.add_subcommand("search", "Search a knowledge base");
    auto o = std::make_shared<SearchCliOptions>();
    sub->add_option("name", o->name, "Name of the base")->required();
    sub->add_option("query", o->query, "What to look for")->required();
    sub->add_option("-k", o->k, "Number of results (default 5)")->check(CLI::Range(1, 1000));
    sub->add_option("--mode", o->mode, "keyword, vector or hybrid (default: hybrid with an embedding model)");
    sub->add_option("--path", o->path, "Only files matching this glob (*.md, notes/**, /abs/**)");
    sub->add_option("--after", o->after, "Only files modified on or after this date (YYYY-MM-DD)");
    sub->add_option("--before", o->before, "Only files modified before this date (YYYY-MM-DD)");
    sub->add_flag("--mmr", o->mmr, "Diversify results (maximal marginal relevance)");
    sub->add_flag("--json", o->json, "Print {\"results\": [...]}");
    sub->callback([o, selected] { *selected = [o] { return run_search(*o); }; });
  }
  {
    auto* sub = app.add_subcommand("ask", "Answer a question from a knowledge base, with sources");
    auto o = std::make_shared<AskOptions>();
    sub->add_option("name", o->name, "Name of the base")->required();
    sub->add_option("question", o->question, "The question")->required();
    sub->add_option("-m,--model", o->model, "Model that answers (store name or .gguf path)");
    sub->add_option("-k", o->k, "Chunks to retrieve (default 6)")->check(CLI::Range(1, 100));
    sub->add_option("--budget", o->budget, "Tokens of sources in the prompt (default 1536)")
        ->check(CLI::Range(64, 1 << 20));
    sub->add_option("-n,--n-predict", o->n_predict, "Tokens to generate at most (default 512)");
    sub->add_option("--ctx", o->ctx, "Context length (default: min(4096, trained))");
    sub->add_option("--temp", o->temp, "Temperature (default 0.2)");
    sub->add_option("--seed", o->seed, "Sampling seed (-1: random)");
    sub->add_option("-t,--threads", o->threads, "Threads (default: physical cores)");
    sub->callback([o, selected] { *selected = [o] { return run_ask(*o); }; });
  }
  {
    auto* sub = app.add_subcommand("set-model", "Change the embedding model and re-embed everything");
    auto name = std::make_shared<std::string>();
    auto model = std::make_shared<std::string>();
    sub->add_option("name", *name, "Name of the base")->required();
    sub->add_option("model", *model, "Embedding model, or none for keyword search only")->required();
    sub->callback(
        [name, model, selected] { *selected = [name, model] { return run_set_model(*name, *model); }; });
  }
  return [selected] { return *selected ? (*selected)() : 2; };
}

}  // namespace

SOV_REGISTER_COMMAND(kb, Command{"kb", "Knowledge bases: index folders, search them, ask with sources",
                                 setup_kb});

}  // namespace sov::cli
