// OpenAI-compatible generation routes: POST /v1/chat/completions and POST /v1/completions,
// as JSON or as server-sent events ending in "data: [DONE]". Extensions (documented in
// docs/api.md): num_ctx, truncate, keep_alive, an Ollama "options" object and "knowledge"
// (grounding in a knowledge base, routes_kb.h).
#include <fmt/format.h>

#include "server/duration.h"
#include "server/generation.h"
#include "server/grammar_constraint.h"
#include "server/http_util.h"
#include "server/model_config.h"
#include "server/routes_kb.h"
#include "server/server.h"
#include "chat/tool_calls.h"

namespace sov::server {
namespace {

using scheduler::JobEvent;
using scheduler::JobStats;
using chat::ToolCall;
using chat::ToolCallParser;
using scheduler::TokenLogprob;

constexpr const char* kFingerprint = "fp_sovereign";
constexpr int32_t kMaxChoices = 16;

struct Request {
  std::string model;
  GenOptions options = openai_defaults();
  KeepAlive keep_alive;
  bool stream = false;
  bool include_usage = false;
  int32_t n = 1;
  int32_t top_logprobs = -1;
  std::shared_ptr<const grammar::Grammar> grammar;  // response_format json_object / json_schema
};

Status parse_request(const ojson& body, const ServerConfig& config, const ModelResolver& resolver, Request* r) {
  SOV_ASSIGN_OR_RETURN(auto model, get_string(body, "model"));
  if (!model || model->empty()) return Status::invalid_argument("field \"model\" is required");
  r->model = *model;
  SOV_ASSIGN_OR_RETURN(auto stream, get_bool(body, "stream"));
  r->stream = stream.value_or(false);
  SOV_ASSIGN_OR_RETURN(auto so, get_object(body, "stream_options"));
  if (so) {
    SOV_ASSIGN_OR_RETURN(auto usage, get_bool(*so, "include_usage"));
    r->include_usage = usage.value_or(false);
  }
  SOV_ASSIGN_OR_RETURN(auto n, get_int(body, "n", 1, kMaxChoices));
  r->n = static_cast<int32_t>(n.value_or(1));
  r->keep_alive = config.keep_alive;
  if (auto it = body.find("keep_alive"); it != body.end() && !it->is_null()) {
    SOV_ASSIGN_OR_RETURN(r->keep_alive, parse_keep_alive(*it));
  }
  apply_model_params(resolver, r->model, &r->options);  // Modelfile PARAMETERs, below the request's
  SOV_RETURN_IF_ERROR(apply_openai_params(body, &r->options));
  SOV_ASSIGN_OR_RETURN(auto fmt, get_object(body, "response_format"));
  if (fmt) {
    SOV_ASSIGN_OR_RETURN(r->grammar, openai_response_format_grammar(*fmt));
  }
  return Status::ok();
}

const char* finish_reason(const JobStats& st, bool tool_calls) {
  if (tool_calls) return "tool_calls";
  return st.done_reason == "length" ? "length" : "stop";
}

json usage_json(const std::vector<JobStats>& stats) {
  int64_t completion = 0;
  for (const auto& s : stats) completion += s.n_generated;
  const int32_t prompt = stats.empty() ? 0 : stats[0].n_prompt;
  const int32_t cached = stats.empty() ? 0 : stats[0].n_cached;
  return json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

json bytes_json(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// Chat logprobs: {"content": [{token, logprob, bytes, top_logprobs: [...]}]}.
json chat_logprobs(const std::vector<TokenLogprob>& lps, const tokenizer::Tokenizer& tok) {
  json content = json::array();
  for (const auto& lp : lps) {
    json top = json::array();
    for (const auto& [id, p] : lp.top) {
      top.push_back({{"token", tok.piece(id)}, {"logprob", p}, {"bytes", bytes_json(tok.piece(id))}});
    }
    content.push_back({{"token", lp.piece},
                       {"logprob", lp.logprob},
                       {"bytes", bytes_json(lp.piece)},
                       {"top_logprobs", top}});
  }
  return json{{"content", content}};
}

// Legacy completions logprobs: parallel arrays.
json completion_logprobs(const std::vector<TokenLogprob>& lps, const tokenizer::Tokenizer& tok,
                         size_t offset) {
  json tokens = json::array(), token_lp = json::array(), top = json::array(), offsets = json::array();
  for (const auto& lp : lps) {
    tokens.push_back(lp.piece);
    token_lp.push_back(lp.logprob);
    json alt = json::object();
    for (const auto& [id, p] : lp.top) alt[tok.piece(id)] = p;
    top.push_back(alt);
    offsets.push_back(offset);
    offset += lp.piece.size();
  }
  return json{
      {"tokens", tokens}, {"token_logprobs", token_lp}, {"top_logprobs", top}, {"text_offset", offsets}};
}

json openai_tool_calls(const std::vector<ToolCall>& calls, size_t first_index, bool with_index) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json c = {{"id", "call_" + random_id(24)},
              {"type", "function"},
              {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments.dump()}}}};
    if (with_index) c["index"] = first_index + i;
    out.push_back(std::move(c));
  }
  return out;
}

std::string sse(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

// Tools and tool_choice: which tools the model sees, and whether to parse calls.
struct ToolSetup {
  ojson tools = ojson::array();
  std::vector<std::string> names;
  bool forced = false;  // "required" or a named function: the output is a call, by grammar
};

Result<ToolSetup> tool_setup(const ojson& body) {
  ToolSetup t;
  SOV_ASSIGN_OR_RETURN(auto tools, get_array(body, "tools"));
  if (tools) t.tools = *tools;
  SOV_ASSIGN_OR_RETURN(t.names, tool_names(t.tools));
  auto choice = body.find("tool_choice");
  if (choice == body.end() || choice->is_null()) return t;
  if (choice->is_string()) {
    const std::string c = choice->get<std::string>();
    if (c == "none") return ToolSetup{};
    if (c != "auto" && c != "required") {
      return Status::invalid_argument("tool_choice must be \"none\", \"auto\", \"required\" or a function");
    }
    if (c == "required" && t.names.empty())
      return Status::invalid_argument("tool_choice \"required\" needs tools");
    t.forced = c == "required";
    return t;
  }
  if (!choice->is_object() || !choice->contains("function") || !(*choice)["function"].is_object() ||
      !(*choice)["function"].contains("name") || !(*choice)["function"]["name"].is_string()) {
    return Status::invalid_argument(
        "tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", "
        "\"function\": {\"name\": ...}}");
  }
  // A named function: offer only that one.
  const std::string name = (*choice)["function"]["name"].get<std::string>();
  ToolSetup named;
  for (size_t i = 0; i < t.names.size(); ++i) {
    if (t.names[i] == name) {
      named.tools.push_back(t.tools[i]);
      named.names.push_back(name);
    }
  }
  if (named.names.empty())
    return Status::invalid_argument(fmt::format("tool_choice names unknown tool \"{}\"", name));
  named.forced = true;
  return named;
}

class ChatStream : public StreamFormatter {
 public:
  ChatStream(const Request& r, std::shared_ptr<Generation> gen, const ToolSetup& tools)
      : model_(r.model),
        include_usage_(r.include_usage),
        logprobs_(r.top_logprobs >= 0),
        gen_(std::move(gen)),
        id_("chatcmpl-" + random_id()),
        created_(unix_now()),
        stats_(gen_->size()),
        started_(gen_->size(), false),
        n_calls_(gen_->size(), 0),
        use_tools_(!tools.names.empty()) {
    for (size_t i = 0; i < gen_->size(); ++i) parsers_.emplace_back(tools.names);
  }
  std::string on_text(size_t i, const JobEvent& e) override {
    std::string out = role_chunk(i);
    if (!use_tools_) return out + delta(i, e.text, {}, e.logprobs);
    auto p = parsers_[i].feed(e.text);
    return out + delta(i, p.content, p.calls, e.logprobs);
  }
  std::string on_done(size_t i, const JobStats& st) override {
    std::string out = role_chunk(i);
    if (use_tools_) {
      auto p = parsers_[i].finish();
      out += delta(i, p.content, p.calls, {});
    }
    stats_[i] = st;
    json c = chunk();
    c["choices"] = json::array({{{"index", i},
                                 {"delta", json::object()},
                                 {"logprobs", nullptr},
                                 {"finish_reason", finish_reason(st, n_calls_[i] > 0)}}});
    return out + sse(c);
  }
  std::string on_error(const Status& s) override {
    return sse(openai_error_body(http_status(s), s.message()));
  }
  std::string on_end() override {
    std::string out;
    if (include_usage_ || !sources.is_null()) {
      json c = chunk();
      c["choices"] = json::array();
      if (include_usage_) c["usage"] = usage_json(stats_);
      if (!sources.is_null()) c["sources"] = sources;
      out += sse(c);
    }
    return out + "data: [DONE]\n\n";
  }

  json sources;  // knowledge-base sources for the last chunk; null for none

 private:
  json chunk() const {
    json c = {{"id", id_},
              {"object", "chat.completion.chunk"},
              {"created", created_},
              {"model", model_},
              {"system_fingerprint", kFingerprint}};
    if (include_usage_) c["usage"] = nullptr;
    return c;
  }
  std::string role_chunk(size_t i) {
    if (started_[i]) return "";
    started_[i] = true;
    json c = chunk();
    c["choices"] = json::array({{{"index", i},
                                 {"delta", {{"role", "assistant"}, {"content", ""}}},
                                 {"logprobs", nullptr},
                                 {"finish_reason", nullptr}}});
    return sse(c);
  }
  std::string delta(size_t i, const std::string& text, const std::vector<ToolCall>& calls,
                    const std::vector<TokenLogprob>& lps) {
    if (text.empty() && calls.empty() && (lps.empty() || !logprobs_)) return "";
    json d = json::object();
    if (!text.empty() || calls.empty()) d["content"] = text;
    if (!calls.empty()) {
      d["tool_calls"] = openai_tool_calls(calls, n_calls_[i], true);
      n_calls_[i] += calls.size();
    }
    json c = chunk();
    c["choices"] =
        json::array({{{"index", i},
                      {"delta", d},
                      {"logprobs", logprobs_ ? chat_logprobs(lps, *gen_->runner().tokenizer) : json(nullptr)},
                      {"finish_reason", nullptr}}});
    return sse(c);
  }

  std::string model_;
  bool include_usage_, logprobs_;
  std::shared_ptr<Generation> gen_;
  std::string id_;
  int64_t created_;
  std::vector<JobStats> stats_;
  std::vector<bool> started_;
  std::vector<size_t> n_calls_;
  std::vector<ToolCallParser> parsers_;
  bool use_tools_;
};

void chat_completions(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto start = Generation::Clock::now();
  auto body = parse_json_body(req);
  if (!body) return send_openai_error(res, body.status());
  Request r;
  if (Status st = parse_request(*body, s.config, s.resolver, &r); !st) return send_openai_error(res, st);
  auto logprobs = get_bool(*body, "logprobs");
  auto top = get_int(*body, "top_logprobs", 0, 20);
  if (!logprobs) return send_openai_error(res, logprobs.status());
  if (!top) return send_openai_error(res, top.status());
  if (logprobs->value_or(false))
    r.top_logprobs = static_cast<int32_t>(top->value_or(0));
  else if (top->has_value())
    return send_openai_error(res, 400, "top_logprobs requires \"logprobs\": true");
  auto messages = get_array(*body, "messages");
  if (!messages) return send_openai_error(res, messages.status());
  if (!*messages || (*messages)->empty())
    return send_openai_error(res, 400, "field \"messages\" must not be empty");
  if (Status st = validate_messages(**messages); !st) return send_openai_error(res, st);
  auto tools = tool_setup(*body);
  if (!tools) return send_openai_error(res, tools.status());
  if (tools->forced) {  // a forced tool call takes precedence over response_format
    auto g = tool_call_grammar(tools->tools);
    if (!g) return send_openai_error(res, g.status());
    r.grammar = *g;
  }

  auto knowledge = retrieve_knowledge(s, *body, **messages);  // "knowledge": grounding in a KB
  if (!knowledge) return send_openai_error(res, knowledge.status());

  auto lease = s.manager.acquire(r.model, r.options.num_ctx, r.keep_alive);
  if (!lease) return send_openai_error(res, lease.status());
  json sources = apply_knowledge(*knowledge, (*lease)->runner(), &**messages);
  auto prompt = build_chat_prompt((*lease)->runner(), **messages, tools->tools);
  if (!prompt) return send_openai_error(res, prompt.status());
  GenerationSpec spec{std::move(prompt).value(), r.options, r.n, r.top_logprobs};
  spec.grammar = r.grammar;
  auto gen = start_generation(s.manager, *lease, std::move(spec), req, &s.metrics, start);
  if (!gen) return send_openai_error(res, gen.status());
  if (r.stream) {
    auto formatter = std::make_shared<ChatStream>(r, *gen, *tools);
    formatter->sources = sources;
    return stream_generation(res, "text/event-stream", *gen, formatter);
  }

  auto choices = collect_generation(**gen);
  if (!choices) return send_openai_error(res, choices.status());
  json out_choices = json::array();
  std::vector<JobStats> stats;
  const auto& tok = *(*gen)->runner().tokenizer;
  for (size_t i = 0; i < choices->size(); ++i) {
    const CollectedChoice& ch = (*choices)[i];
    json message = {{"role", "assistant"}, {"content", ch.text}};
    bool called = false;
    if (!tools->names.empty()) {
      ToolCallParser parser(tools->names);
      auto a = parser.feed(ch.text);
      auto b = parser.finish();
      std::vector<ToolCall> calls = std::move(a.calls);
      for (auto& c : b.calls) calls.push_back(std::move(c));
      std::string content = a.content + b.content;
      if (!calls.empty()) {
        called = true;
        message["tool_calls"] = openai_tool_calls(calls, 0, false);
        bool blank = content.find_first_not_of(" \n\t\r") == std::string::npos;
        message["content"] = blank ? json(nullptr) : json(content);
      }
    }
    out_choices.push_back(
        {{"index", i},
         {"message", message},
         {"logprobs", r.top_logprobs >= 0 ? chat_logprobs(ch.logprobs, tok) : json(nullptr)},
         {"finish_reason", finish_reason(ch.stats, called)}});
    stats.push_back(ch.stats);
  }
  json out = {{"id", "chatcmpl-" + random_id()},
              {"object", "chat.completion"},
              {"created", unix_now()},
              {"model", r.model},
              {"system_fingerprint", kFingerprint},
              {"choices", out_choices},
              {"usage", usage_json(stats)}};
  if (!sources.is_null()) out["sources"] = sources;
  send_json(res, out);
}

class CompletionStream : public StreamFormatter {
 public:
  CompletionStream(const Request& r, std::shared_ptr<Generation> gen, std::string echo)
      : model_(r.model),
        include_usage_(r.include_usage),
        logprobs_(r.top_logprobs >= 0),
        gen_(std::move(gen)),
        id_("cmpl-" + random_id()),
        created_(unix_now()),
        stats_(gen_->size()),
        echo_(std::move(echo)),
        echoed_(gen_->size(), echo_.empty()),
        offsets_(gen_->size(), 0) {}
  std::string on_text(size_t i, const JobEvent& e) override {
    std::string text = e.text;
    if (!echoed_[i]) {
      text = echo_ + text;
      echoed_[i] = true;
    }
    if (text.empty() && (!logprobs_ || e.logprobs.empty())) return "";
    json lp = nullptr;
    if (logprobs_) {
      lp = completion_logprobs(e.logprobs, *gen_->runner().tokenizer, offsets_[i]);
      for (const auto& t : e.logprobs) offsets_[i] += t.piece.size();
    }
    return sse(chunk(i, text, lp, nullptr));
  }
  std::string on_done(size_t i, const JobStats& st) override {
    stats_[i] = st;
    std::string out;
    if (!echoed_[i]) out = on_text(i, JobEvent{});
    return out + sse(chunk(i, "", nullptr, finish_reason(st, false)));
  }
  std::string on_error(const Status& s) override {
    return sse(openai_error_body(http_status(s), s.message()));
  }
  std::string on_end() override {
    std::string out;
    if (include_usage_) {
      json c = base();
      c["choices"] = json::array();
      c["usage"] = usage_json(stats_);
      out += sse(c);
    }
    return out + "data: [DONE]\n\n";
  }

 private:
  json base() const {
    json c = {{"id", id_},
              {"object", "text_completion"},
              {"created", created_},
              {"model", model_},
              {"system_fingerprint", kFingerprint}};
    if (include_usage_) c["usage"] = nullptr;
    return c;
  }
  json chunk(size_t i, const std::string& text, json logprobs, const char* reason) const {
    json c = base();
    c["choices"] = json::array({{{"text", text},
                                 {"index", i},
                                 {"logprobs", logprobs},
                                 {"finish_reason", reason ? json(reason) : json(nullptr)}}});
    return c;
  }
  std::string model_;
  bool include_usage_, logprobs_;
  std::shared_ptr<Generation> gen_;
  std::string id_;
  int64_t created_;
  std::vector<JobStats> stats_;
  std::string echo_;
  std::vector<bool> echoed_;
  std::vector<size_t> offsets_;
};

void completions(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto start = Generation::Clock::now();
  auto body = parse_json_body(req);
  if (!body) return send_openai_error(res, body.status());
  Request r;
  r.options.num_predict = 16;  // OpenAI's default max_tokens for completions
  if (Status st = parse_request(*body, s.config, s.resolver, &r); !st) return send_openai_error(res, st);
  auto logprobs = get_int(*body, "logprobs", 0, 5);
  if (!logprobs) return send_openai_error(res, logprobs.status());
  if (*logprobs) r.top_logprobs = static_cast<int32_t>(**logprobs);
  auto echo = get_bool(*body, "echo");
  auto suffix = get_string(*body, "suffix");
  auto best_of = get_int(*body, "best_of", 1, kMaxChoices);
  if (!echo) return send_openai_error(res, echo.status());
  if (!suffix) return send_openai_error(res, suffix.status());
  if (!best_of) return send_openai_error(res, best_of.status());
  if (best_of->value_or(r.n) != r.n)
    return send_openai_error(res, 400, "best_of other than n is not supported");

  GeneratePromptRequest pr;
  pr.raw = true;
  pr.suffix = suffix->value_or("");
  std::vector<int32_t> token_prompt;
  auto p = body->find("prompt");
  if (p == body->end() || p->is_null()) return send_openai_error(res, 400, "field \"prompt\" is required");
  if (p->is_string()) {
    pr.prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    pr.prompt = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() &&
             std::all_of(p->begin(), p->end(), [](auto& v) { return v.is_number_integer(); })) {
    for (const auto& v : *p) {
      if (v.template get<int64_t>() < 0 || v.template get<int64_t>() > INT32_MAX) {
        return send_openai_error(res, 400, "prompt token ids must be non-negative");
      }
      token_prompt.push_back(v.template get<int32_t>());
    }
  } else if (p->is_array() && p->size() > 1) {
    return send_openai_error(res, 400,
                             "only one prompt per request is supported; send one request per prompt");
  } else {
    return send_openai_error(res, 400, "field \"prompt\" must be a string or an array of token ids");
  }
  if (pr.prompt.empty() && token_prompt.empty()) return send_openai_error(res, 400, "the prompt is empty");

  auto lease = s.manager.acquire(r.model, r.options.num_ctx, r.keep_alive);
  if (!lease) return send_openai_error(res, lease.status());
  BuiltPrompt built;
  if (!token_prompt.empty()) {
    built.tokens = token_prompt;
  } else {
    auto b = build_generate_prompt((*lease)->runner(), pr);
    if (!b) return send_openai_error(res, b.status());
    built = std::move(b).value();
  }
  std::string echo_text;
  if (echo->value_or(false)) {
    echo_text = token_prompt.empty() ? pr.prompt : (*lease)->runner().tokenizer->decode(token_prompt, true);
  }
  GenerationSpec spec{std::move(built), r.options, r.n, r.top_logprobs};
  spec.grammar = r.grammar;
  auto gen = start_generation(s.manager, *lease, std::move(spec), req, &s.metrics, start);
  if (!gen) return send_openai_error(res, gen.status());
  if (r.stream) {
    return stream_generation(res, "text/event-stream", *gen,
                             std::make_shared<CompletionStream>(r, *gen, echo_text));
  }
  auto choices = collect_generation(**gen);
  if (!choices) return send_openai_error(res, choices.status());
  json out_choices = json::array();
  std::vector<JobStats> stats;
  for (size_t i = 0; i < choices->size(); ++i) {
    const CollectedChoice& ch = (*choices)[i];
    out_choices.push_back(
        {{"text", echo_text + ch.text},
         {"index", i},
         {"logprobs", r.top_logprobs >= 0
                          ? completion_logprobs(ch.logprobs, *(*gen)->runner().tokenizer, echo_text.size())
                          : json(nullptr)},
         {"finish_reason", finish_reason(ch.stats, false)}});
    stats.push_back(ch.stats);
  }
  send_json(res, json{{"id", "cmpl-" + random_id()},
                      {"object", "text_completion"},
                      {"created", unix_now()},
                      {"model", r.model},
                      {"system_fingerprint", kFingerprint},
                      {"choices", out_choices},
                      {"usage", usage_json(stats)}});
}

}  // namespace

void register_openai_routes(HttpServer& http, ServerState& state) {
  // routed(): hybrid routing may send the request upstream instead (routes_router.cpp).
  http.Post("/v1/chat/completions", routed(state, [&state](const httplib::Request& req, httplib::Response& res) {
              chat_completions(state, req, res);
            }));
  http.Post("/v1/completions", routed(state, [&state](const httplib::Request& req, httplib::Response& res) {
              completions(state, req, res);
            }));
}

}  // namespace sov::server
