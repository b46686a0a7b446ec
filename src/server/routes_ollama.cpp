// Ollama's generation routes: POST /api/generate and POST /api/chat, with NDJSON streaming
// (the default) or one JSON object ("stream": false). Field names, defaults and the final
// statistics (durations in nanoseconds) follow Ollama's docs/api.md. Extension: /api/chat's
// "knowledge" grounds the answer in a knowledge base and adds "sources" (routes_kb.h).
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

struct Common {
  std::string model;
  GenOptions options = ollama_defaults();
  KeepAlive keep_alive;
  bool stream = true;
  std::shared_ptr<const grammar::Grammar> grammar;  // "format"
};

Status reject_images(const ojson& obj, const char* where) {
  SOV_ASSIGN_OR_RETURN(auto images, get_array(obj, "images"));
  if (images && !images->empty()) {
    return Status::invalid_argument(fmt::format(
        "{}: images are not supported: this server runs text-only models (no vision support yet)", where));
  }
  return Status::ok();
}

// "format": "json" or a JSON schema, enforced by a grammar during sampling.
Status parse_format(const ojson& body, std::shared_ptr<const grammar::Grammar>* out) {
  auto it = body.find("format");
  if (it == body.end()) return Status::ok();
  SOV_ASSIGN_OR_RETURN(*out, ollama_format_grammar(*it));
  return Status::ok();
}

Status parse_common(const ojson& body, const ServerConfig& config, const ModelResolver& resolver, Common* c) {
  SOV_ASSIGN_OR_RETURN(auto model, get_string(body, "model"));
  if (!model || model->empty()) return Status::invalid_argument("field \"model\" is required");
  c->model = *model;
  SOV_ASSIGN_OR_RETURN(auto stream, get_bool(body, "stream"));
  c->stream = stream.value_or(true);
  c->keep_alive = config.keep_alive;
  if (auto it = body.find("keep_alive"); it != body.end() && !it->is_null()) {
    SOV_ASSIGN_OR_RETURN(c->keep_alive, parse_keep_alive(*it));
  }
  apply_model_params(resolver, c->model, &c->options);  // Modelfile PARAMETERs, below the request's
  SOV_ASSIGN_OR_RETURN(auto options, get_object(body, "options"));
  if (options) SOV_RETURN_IF_ERROR(apply_ollama_options(*options, &c->options));
  SOV_ASSIGN_OR_RETURN(auto truncate, get_bool(body, "truncate"));
  c->options.truncate = truncate.value_or(false);
  SOV_RETURN_IF_ERROR(parse_format(body, &c->grammar));
  return Status::ok();
}

bool unloads(const KeepAlive& k) {
  return !k.forever && k.duration.count() == 0;
}

json head(const std::string& model) {
  return json{{"model", model}, {"created_at", format_rfc3339(std::chrono::system_clock::now())}};
}

void add_stats(json* j, const Generation& gen, const JobStats& st) {
  (*j)["done"] = true;
  (*j)["done_reason"] = st.done_reason;
  (*j)["total_duration"] = gen.total_ns();
  (*j)["load_duration"] = gen.load_ns();
  (*j)["prompt_eval_count"] = st.n_prompt;
  (*j)["prompt_eval_duration"] = st.prompt_ns;
  (*j)["eval_count"] = st.n_generated;
  (*j)["eval_duration"] = st.eval_ns;
}

std::string line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

json tool_calls_json(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const auto& c : calls) {
    out.push_back(json{{"function", {{"name", c.name}, {"arguments", json::parse(c.arguments.dump())}}}});
  }
  return out;
}

// Answers a request with an empty prompt: load the model, or unload it with keep_alive 0.
void load_or_unload(ServerState& s, const Common& c, httplib::Response& res, bool chat) {
  json out = head(c.model);
  if (chat)
    out["message"] = {{"role", "assistant"}, {"content", ""}};
  else
    out["response"] = "";
  out["done"] = true;
  if (unloads(c.keep_alive)) {
    auto entry = s.resolver.resolve(c.model);
    if (!entry) return send_ollama_error(res, entry.status());
    s.manager.unload(c.model);
    out["done_reason"] = "unload";
  } else {
    auto lease = s.manager.acquire(c.model, c.options.num_ctx, c.keep_alive);
    if (!lease) return send_ollama_error(res, lease.status());
    out["done_reason"] = "load";
  }
  send_json(res, out);
}

class GenerateFormatter : public StreamFormatter {
 public:
  GenerateFormatter(std::string model, std::shared_ptr<Generation> gen, std::vector<int32_t> prompt, bool raw)
      : model_(std::move(model)), gen_(std::move(gen)), prompt_(std::move(prompt)), raw_(raw) {}
  std::string on_text(size_t, const JobEvent& e) override {
    if (e.text.empty()) return "";
    json j = head(model_);
    j["response"] = e.text;
    j["done"] = false;
    return line(j);
  }
  std::string on_done(size_t, const JobStats& st) override { return line(final_json(st, "")); }
  std::string on_error(const Status& s) override { return line(json{{"error", s.message()}}); }
  std::string on_end() override { return ""; }

  json final_json(const JobStats& st, const std::string& response) const {
    json j = head(model_);
    j["response"] = response;
    add_stats(&j, *gen_, st);
    if (!raw_) {
      std::vector<int32_t> context = prompt_;
      context.insert(context.end(), st.tokens.begin(), st.tokens.end());
      j["context"] = context;
    }
    return j;
  }

 private:
  std::string model_;
  std::shared_ptr<Generation> gen_;
  std::vector<int32_t> prompt_;
  bool raw_;
};

class ChatFormatter : public StreamFormatter {
 public:
  ChatFormatter(std::string model, std::shared_ptr<Generation> gen, std::vector<std::string> tools,
                bool use_tools)
      : model_(std::move(model)), gen_(std::move(gen)), parser_(std::move(tools)), use_tools_(use_tools) {}
  std::string on_text(size_t, const JobEvent& e) override {
    if (!use_tools_) return chunk(e.text, {});
    auto out = parser_.feed(e.text);
    return chunk(out.content, out.calls);
  }
  std::string on_done(size_t, const JobStats& st) override {
    std::string out;
    if (use_tools_) {
      auto rest = parser_.finish();
      out = chunk(rest.content, rest.calls);
    }
    json j = head(model_);
    j["message"] = {{"role", "assistant"}, {"content", ""}};
    add_stats(&j, *gen_, st);
    if (!sources.is_null()) j["sources"] = sources;
    return out + line(j);
  }
  std::string on_error(const Status& s) override { return line(json{{"error", s.message()}}); }
  std::string on_end() override { return ""; }

  json sources;  // knowledge-base sources for the final chunk; null for none

 private:
  std::string chunk(const std::string& content, const std::vector<ToolCall>& calls) const {
    if (content.empty() && calls.empty()) return "";
    json j = head(model_);
    j["message"] = {{"role", "assistant"}, {"content", content}};
    if (!calls.empty()) j["message"]["tool_calls"] = tool_calls_json(calls);
    j["done"] = false;
    return line(j);
  }
  std::string model_;
  std::shared_ptr<Generation> gen_;
  ToolCallParser parser_;
  bool use_tools_;
};

void generate(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto start = Generation::Clock::now();
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  Common c;
  if (Status st = parse_common(*body, s.config, s.resolver, &c); !st) return send_ollama_error(res, st);
  GeneratePromptRequest pr;
  Status st = [&]() -> Status {
    SOV_RETURN_IF_ERROR(reject_images(*body, "/api/generate"));
    SOV_ASSIGN_OR_RETURN(auto prompt, get_string(*body, "prompt"));
    SOV_ASSIGN_OR_RETURN(auto suffix, get_string(*body, "suffix"));
    SOV_ASSIGN_OR_RETURN(auto system, get_string(*body, "system"));
    SOV_ASSIGN_OR_RETURN(auto tmpl, get_string(*body, "template"));
    SOV_ASSIGN_OR_RETURN(auto raw, get_bool(*body, "raw"));
    SOV_ASSIGN_OR_RETURN(auto context, get_array(*body, "context"));
    pr.prompt = prompt.value_or("");
    pr.suffix = suffix.value_or("");
    pr.system = system.value_or("");
    pr.has_template = tmpl.has_value() && !tmpl->empty();
    pr.go_template = tmpl.value_or("");
    pr.raw = raw.value_or(false);
    if (context) {
      for (const auto& v : *context) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
          return Status::invalid_argument("field \"context\" must be an array of token ids");
        }
        pr.context.push_back(v.get<int32_t>());
      }
    }
    return Status::ok();
  }();
  if (!st) return send_ollama_error(res, st);
  if (pr.prompt.empty() && pr.suffix.empty() && pr.context.empty()) return load_or_unload(s, c, res, false);

  auto lease = s.manager.acquire(c.model, c.options.num_ctx, c.keep_alive);
  if (!lease) return send_ollama_error(res, lease.status());
  auto prompt = build_generate_prompt((*lease)->runner(), pr);
  if (!prompt) return send_ollama_error(res, prompt.status());
  GenerationSpec spec{std::move(prompt).value(), c.options};
  spec.grammar = c.grammar;
  auto gen = start_generation(s.manager, *lease, std::move(spec), req, &s.metrics, start);
  if (!gen) return send_ollama_error(res, gen.status());
  auto formatter = std::make_shared<GenerateFormatter>(c.model, *gen, (*gen)->prompt(), pr.raw);
  if (c.stream) return stream_generation(res, "application/x-ndjson", *gen, formatter);
  auto choices = collect_generation(**gen);
  if (!choices) return send_ollama_error(res, choices.status());
  send_json(res, formatter->final_json((*choices)[0].stats, (*choices)[0].text));
}

void chat(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto start = Generation::Clock::now();
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  Common c;
  if (Status st = parse_common(*body, s.config, s.resolver, &c); !st) return send_ollama_error(res, st);
  auto messages = get_array(*body, "messages");
  if (!messages) return send_ollama_error(res, messages.status());
  auto tools = get_array(*body, "tools");
  if (!tools) return send_ollama_error(res, tools.status());
  ojson msgs = messages->value_or(ojson::array());
  if (Status st = validate_messages(msgs); !st) return send_ollama_error(res, st);
  ojson tool_list = tools->value_or(ojson::array());
  auto names = tool_names(tool_list);
  if (!names) return send_ollama_error(res, names.status());
  if (msgs.empty()) return load_or_unload(s, c, res, true);
  auto knowledge = retrieve_knowledge(s, *body, msgs);  // "knowledge": grounding in a KB
  if (!knowledge) return send_ollama_error(res, knowledge.status());

  auto lease = s.manager.acquire(c.model, c.options.num_ctx, c.keep_alive);
  if (!lease) return send_ollama_error(res, lease.status());
  json sources = apply_knowledge(*knowledge, (*lease)->runner(), &msgs);
  auto prompt = build_chat_prompt((*lease)->runner(), msgs, tool_list);
  if (!prompt) return send_ollama_error(res, prompt.status());
  GenerationSpec spec{std::move(prompt).value(), c.options};
  spec.grammar = c.grammar;
  auto gen = start_generation(s.manager, *lease, std::move(spec), req, &s.metrics, start);
  if (!gen) return send_ollama_error(res, gen.status());
  const bool use_tools = !names->empty();
  if (c.stream) {
    auto formatter = std::make_shared<ChatFormatter>(c.model, *gen, *names, use_tools);
    formatter->sources = sources;
    return stream_generation(res, "application/x-ndjson", *gen, formatter);
  }
  auto choices = collect_generation(**gen);
  if (!choices) return send_ollama_error(res, choices.status());
  const CollectedChoice& ch = (*choices)[0];
  json message = {{"role", "assistant"}, {"content", ch.text}};
  if (use_tools) {
    ToolCallParser parser(*names);
    auto a = parser.feed(ch.text);
    auto b = parser.finish();
    std::vector<ToolCall> calls = std::move(a.calls);
    for (auto& call : b.calls) calls.push_back(std::move(call));
    message["content"] = a.content + b.content;
    if (!calls.empty()) message["tool_calls"] = tool_calls_json(calls);
  }
  json out = head(c.model);
  out["message"] = message;
  add_stats(&out, **gen, ch.stats);
  if (!sources.is_null()) out["sources"] = sources;
  send_json(res, out);
}

}  // namespace

void register_ollama_routes(HttpServer& http, ServerState& state) {
  // routed(): hybrid routing may send the request upstream instead (routes_router.cpp).
  http.Post("/api/generate", routed(state, [&state](const httplib::Request& req, httplib::Response& res) {
              generate(state, req, res);
            }));
  http.Post("/api/chat", routed(state, [&state](const httplib::Request& req, httplib::Response& res) {
              chat(state, req, res);
            }));
}

}  // namespace sov::server
