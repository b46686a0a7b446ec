// `sov run MODEL [PROMPT...] [--parameter NAME=VALUE]... [--system TEXT] [--verbose]
//  [-t THREADS] [--nohistory]`: chat with a model in the terminal.
//
// MODEL is a name in the model store or a path to a .gguf file. With a PROMPT, or with text
// on stdin when stdin is not a terminal (stdin first, then the PROMPT words), it answers
// once and exits. Otherwise it opens an interactive chat (see chat/repl_input.h for the
// commands): answers stream as they are generated, Ctrl-C stops an answer (the part shown
// stays in the conversation) and clears the line at the prompt.
//
// The model's chat template renders every turn (ChatML when it has none), its end-of-turn
// tokens and the template's stop strings end an answer, and a store model's Modelfile
// parameters, system message and messages are the starting point. The KV cache keeps the
// previous turns, so a new turn only evaluates the tokens that changed.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "chat/chat_prompt.h"
#include "chat/conversation.h"
#include "chat/parameters.h"
#include "chat/repl_input.h"
#include "cli/command.h"
#include "cli/line_editor.h"
#include "scheduler/sequence.h"
#include "store/config.h"
#include "store/details.h"

namespace sov::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct RunOptions {
  std::string model;
  std::vector<std::string> prompt;
  std::vector<std::string> parameters;
  std::string system;
  bool has_system = false;
  bool verbose = false;
  bool no_history = false;
  int threads = 0;
};

// Set by SIGINT in interactive mode: stops the current answer or clears the prompt line.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
}

void install_sigint_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so the prompt can be cleared
  sigaction(SIGINT, &sa, nullptr);
}

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The loaded model and the sequence whose KV cache holds the conversation so far.
class ChatEngine {
 public:
  static Result<std::unique_ptr<ChatEngine>> load(store::ResolvedModel resolved, int threads) {
    auto e = std::unique_ptr<ChatEngine>(new ChatEngine());
    e->resolved_ = std::move(resolved);
    e->threads_ = threads;
    SOV_ASSIGN_OR_RETURN(e->model_, engine::Model::load(e->resolved_.gguf_path));
    SOV_ASSIGN_OR_RETURN(e->tok_, tokenizer::Tokenizer::from_gguf(e->model_->file()));
    const auto& t = *e->tok_;
    auto found = e->model_->file().get_string("tokenizer.chat_template");
    const std::string tmpl = found ? *found : "";
    e->prompt_ = std::make_unique<chat::ChatPrompt>(chat::ChatPrompt::create(
        tmpl, t.bos() >= 0 ? t.piece(t.bos()) : "", t.eos() >= 0 ? t.piece(t.eos()) : ""));
    return e;
  }

  const store::ResolvedModel& resolved() const { return resolved_; }
  const chat::ChatPrompt& prompt() const { return *prompt_; }
  const engine::Model& model() const { return *model_; }
  // Context length in use (0 before the first answer).
  int32_t n_ctx() const { return seq_ ? seq_->context().n_ctx() : 0; }

  // Answers the conversation's last message, streaming the text to on_text.
  Result<scheduler::GenerateResult> answer(const chat::Conversation& conv,
                                           const std::function<bool(std::string_view)>& on_text) {
    SOV_ASSIGN_OR_RETURN(chat::GenerationSettings s, chat::generation_settings(conv.parameters()));
    if (!seq_ || s.num_ctx != seq_num_ctx_) {
      seq_.reset();  // free the old cache first
      SOV_ASSIGN_OR_RETURN(auto ctx,
                           engine::Context::create(model_, {.n_ctx = s.num_ctx, .n_threads = threads_}));
      seq_ = std::make_unique<scheduler::Sequence>(std::move(ctx));
      seq_num_ctx_ = s.num_ctx;
    }
    const int32_t n_ctx = seq_->context().n_ctx();
    // Leave room for the answer: num_predict tokens, at most half the context.
    const int32_t reserve =
        std::max<int32_t>(1, s.num_predict >= 0 ? std::min(s.num_predict, n_ctx / 2) : n_ctx / 4);
    auto tokenize = [this](const std::string& text) {
      const auto& t = *tok_;
      bool add_bos = !(t.bos() >= 0 && !t.piece(t.bos()).empty() && text.starts_with(t.piece(t.bos())));
      return t.encode(text, add_bos, /*parse_special=*/true);
    };
    SOV_ASSIGN_OR_RETURN(chat::FittedPrompt fitted,
                         chat::fit_chat_prompt(*prompt_, conv.chat_messages(), tokenize,
                                               static_cast<size_t>(std::max(1, n_ctx - reserve))));
    if (fitted.n_dropped > 0) {
      std::fprintf(stderr, "(the %zu oldest messages no longer fit the context and were left out)\n",
                   fitted.n_dropped);
    }
    scheduler::GenerateParams params;
    params.sampler = s.sampler;
    params.max_tokens = s.num_predict;
    params.stop = s.stop;
    for (const auto& stop : prompt_->stops()) params.stop.push_back(stop);
    return seq_->run(fitted.tokens, *tok_, params, on_text);
  }

 private:
  ChatEngine() = default;
  store::ResolvedModel resolved_;
  std::shared_ptr<const engine::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  std::unique_ptr<chat::ChatPrompt> prompt_;
  std::unique_ptr<scheduler::Sequence> seq_;
  int32_t seq_num_ctx_ = -1;
  int threads_ = 0;
};

void print_stats(const scheduler::GenerateResult& r) {
  const double prompt_rate = r.prompt_ms > 0 ? (r.n_prompt - r.n_cached) * 1000.0 / r.prompt_ms : 0.0;
  const double gen_rate = r.generate_ms > 0 ? r.n_generated * 1000.0 / r.generate_ms : 0.0;
  std::fprintf(stderr,
               "prompt: %d tokens (%d cached), %.1f tok/s | answer: %d tokens, %.1f tok/s | done: %s\n",
               r.n_prompt, r.n_cached, prompt_rate, r.n_generated, gen_rate, r.done_reason.c_str());
}

// A parameter as /set parameter takes it: numbers in their shortest form, stop strings quoted.
std::string parameter_text(const ojson& v) {
  if (v.is_array()) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s.dump();
    return out;
  }
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  return v.dump();
}

std::string show_info(const ChatEngine& e, const chat::Conversation& conv) {
  std::string out = "  Model\n";
  const auto& r = e.resolved();
  out += fmt::format("    {:<20}{}\n", "name", r.name);
  auto details = store::read_model_details(r.gguf_path);
  if (details) {
    out += fmt::format("    {:<20}{}\n", "architecture", details->family);
    out += fmt::format("    {:<20}{}\n", "parameters", details->parameter_size);
    out += fmt::format("    {:<20}{}\n", "quantization", details->quantization_level);
    out += fmt::format("    {:<20}{}\n", "context length", details->context_length);
    out += fmt::format("    {:<20}{}\n", "embedding length", details->embedding_length);
  }
  if (e.n_ctx() > 0) out += fmt::format("    {:<20}{}\n", "context in use", e.n_ctx());
  const auto& p = e.prompt();
  out += fmt::format("    {:<20}{}\n", "chat template",
                     p.uses_model_template() ? "the model's own"
                     : p.warning().empty()   ? "none in the model (ChatML is used)"
                                             : "does not parse (ChatML is used)");
  if (!conv.parameters().empty()) {
    out += "\n  Parameters\n";
    for (const auto& [name, v] : conv.parameters().items())
      out += fmt::format("    {:<20}{}\n", name, parameter_text(v));
  }
  if (!conv.system().empty()) out += "\n  System\n    " + conv.system() + "\n";
  return out + "\n";
}

// One slash command or message of the interactive chat. Returns false to leave.
bool handle(const chat::ReplCommand& cmd, ChatEngine& engine, chat::Conversation& conv, bool verbose) {
  using Kind = chat::ReplCommand::Kind;
  switch (cmd.kind) {
    case Kind::kEmpty: return true;
    case Kind::kBye: return false;
    case Kind::kHelp: write_out(chat::repl_help(cmd.name)); return true;
    case Kind::kError: write_out(cmd.text + "\n"); return true;
    case Kind::kClear:
      conv.clear();
      write_out("Cleared the conversation.\n");
      return true;
    case Kind::kSetSystem:
      conv.set_system(cmd.text);
      write_out("Set the system message.\n");
      return true;
    case Kind::kSetParameter:
      if (Status s = chat::set_parameter(&conv.parameters(), cmd.name, cmd.text); !s) {
        write_out("error: " + s.message() + "\n");
      } else {
        write_out(fmt::format("Set parameter '{}' to '{}'\n", cmd.name,
                              parameter_text(conv.parameters()[cmd.name])));
      }
      return true;
    case Kind::kShow:
      if (cmd.name == "info") write_out(show_info(engine, conv));
      if (cmd.name == "system")
        write_out(conv.system().empty() ? "No system message.\n" : conv.system() + "\n");
      if (cmd.name == "template") write_out(engine.prompt().source() + "\n");
      if (cmd.name == "parameters") {
        if (conv.parameters().empty()) write_out("No parameters set; the defaults are used.\n");
        for (const auto& [name, v] : conv.parameters().items())
          write_out(fmt::format("{:<20}{}\n", name, parameter_text(v)));
      }
      return true;
    case Kind::kSave:
      conv.set_model(engine.resolved().name);
      if (Status s = conv.save(cmd.text); !s) {
        write_out("error: " + s.message() + "\n");
      } else {
        write_out(fmt::format("Saved the conversation to {}.\n", cmd.text));
      }
      return true;
    case Kind::kLoad: {
      auto loaded = chat::Conversation::load(cmd.text);
      if (!loaded) {
        write_out("error: " + loaded.status().message() + "\n");
        return true;
      }
      conv = std::move(loaded).value();
      write_out(fmt::format("Loaded {} messages from {}.\n", conv.size(), cmd.text));
      return true;
    }
    case Kind::kMessage: {
      (void)conv.add("user", cmd.text);
      std::string answer;
      g_interrupted.store(false);
      auto r = engine.answer(conv, [&](std::string_view text) {
        answer.append(text);
        write_out(text);
        return !g_interrupted.load();
      });
      if (!r) {
        conv.pop_back();
        write_out("error: " + r.status().message() + "\n\n");
        return true;
      }
      (void)conv.add("assistant", answer);  // a stopped answer is kept as far as it got
      write_out("\n\n");
      if (verbose) print_stats(*r);
      return true;
    }
  }
  return true;
}

std::string history_file() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";
  std::string dir = std::string(home) + "/.sovereign";
  ::mkdir(dir.c_str(), 0700);  // best effort: without it, history stays in memory
  return dir + "/history";
}

int interactive(ChatEngine& engine, chat::Conversation& conv, const RunOptions& o) {
  install_sigint_handler();
  const int out_fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDERR_FILENO;
  auto editor = LineEditor::open("sov", out_fd, &g_interrupted, o.no_history ? "" : history_file());
  if (!editor) return fail(editor.status().message());
  if (!engine.prompt().warning().empty())
    std::fprintf(stderr, "warning: %s\n", engine.prompt().warning().c_str());
  chat::InputAssembler input;
  std::string line;
  while (true) {
    g_interrupted.store(false);
    auto event = (*editor)->read(input.in_block() ? "... " : ">>> ", &line);
    if (event == LineEditor::Event::kEof) {
      write_out("\n");
      return 0;
    }
    if (event == LineEditor::Event::kInterrupted) {
      input.reset();
      write_out("\n");
      continue;
    }
    auto complete = input.add_line(line);
    if (!complete) continue;
    (*editor)->remember(*complete);
    if (!handle(chat::parse_command(*complete), engine, conv, o.verbose)) return 0;
  }
}

int one_shot(ChatEngine& engine, chat::Conversation& conv, const std::string& prompt, bool verbose) {
  if (Status s = conv.add("user", prompt); !s) return fail(s.message());
  auto r = engine.answer(conv, [](std::string_view text) {
    write_out(text);
    return true;
  });
  if (!r) return fail(r.status().message());
  write_out("\n");
  if (verbose) print_stats(*r);
  return 0;
}

int run_chat(const RunOptions& o) {
  auto resolved = store::resolve_model_argument(o.model);
  if (!resolved) return fail(resolved.status().message());
  chat::Conversation conv;
  conv.set_model(resolved->name);
  conv.set_system(o.has_system ? o.system : resolved->system);
  // The Modelfile's parameters (options for other runtimes are ignored), then the flags.
  if (resolved->params.is_object()) {
    for (const auto& [name, v] : resolved->params.items()) conv.parameters()[name] = v;
  }
  if (auto s = chat::generation_settings(conv.parameters()); !s)
    return fail(fmt::format("{}: {}", resolved->name, s.status().message()));
  for (const auto& p : o.parameters) {
    if (Status s = chat::set_parameter_assignment(&conv.parameters(), p); !s) {
      std::fprintf(stderr, "error: --parameter %s\n", s.message().c_str());
      return 2;
    }
  }
  for (const auto& m : resolved->messages) {
    if (Status s = conv.add(m.role, m.content); !s)
      return fail(fmt::format("{}: {}", resolved->name, s.message()));
  }

  auto engine = ChatEngine::load(std::move(resolved).value(), o.threads);
  if (!engine) return fail(engine.status().message());

  std::string prompt;
  const bool stdin_tty = isatty(STDIN_FILENO);
  if (!stdin_tty) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == '\r')) prompt.pop_back();
  }
  for (const auto& word : o.prompt) prompt += (prompt.empty() ? "" : " ") + word;
  if (!stdin_tty || !o.prompt.empty()) {
    if (prompt.empty()) return fail("no prompt: give one after the model, or on stdin");
    return one_shot(**engine, conv, prompt, o.verbose);
  }
  return interactive(**engine, conv, o);
}

SOV_REGISTER_COMMAND(
    run, Command{"run", "Chat with a model (one answer with a PROMPT, else interactive)",
                 [](CLI::App& sub) -> std::function<int()> {
                   auto o = std::make_shared<RunOptions>();
                   sub.add_option("model", o->model, "model name or .gguf file")->required();
                   sub.add_option("prompt", o->prompt, "prompt (answers once and exits)");
                   sub.add_option("--parameter", o->parameters, "NAME=VALUE, as /set parameter (repeatable)")
                       ->allow_extra_args(false);  // one value per flag: the PROMPT may follow
                   sub.add_option("--system", o->system, "system message")->each([o](const std::string&) {
                     o->has_system = true;
                   });
                   sub.add_flag("--verbose", o->verbose, "print timings after each answer");
                   sub.add_flag("--nohistory", o->no_history, "do not keep a history file");
                   sub.add_option("-t,--threads", o->threads, "threads (default: physical cores)");
                   return [o] { return run_chat(*o); };
                 }});

}  // namespace
}  // namespace sov::cli
