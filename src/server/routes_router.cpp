// The server's adapter to hybrid routing (src/router): routed() wraps the four local
// generation handlers (/v1/chat/completions, /v1/completions, /api/chat, /api/generate) so
// that each request first gets a routing decision; local decisions run the local handler
// (with the model `auto` resolved), upstream decisions are proxied, and failures fall back
// as configured. Also POST /api/route/explain (the decision without running it),
// GET /api/route (backends and rules, never keys) and GET /api/audit (what left the machine).
//
// With no router configured (no config file) routed() is the local handler itself.
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "gguf/file.h"
#include "router/router.h"
#include "server/generation.h"
#include "server/http_util.h"
#include "server/routes_kb.h"
#include "server/server.h"
#include "tokenizer/tokenizer.h"

namespace sov::server {
namespace {

using router::ApiKind;
using router::Decision;
using router::Router;
using router::RouteRequest;

void send_error(const httplib::Request& req, httplib::Response& res, int status, const std::string& message) {
  if (is_openai_path(req.path)) {
    send_openai_error(res, status, message);
  } else {
    send_ollama_error(res, status, message);
  }
}

// The context the local model runs with (0 when unknown), for exceeds_local_context rules.
int64_t local_context(ServerState& s, const std::string& model) {
  if (model.empty()) return 0;
  auto entry = s.resolver.resolve(model);
  if (!entry) return 0;
  for (const auto& m : s.manager.loaded()) {
    if (m.entry.same_model(*entry)) return m.n_ctx;
  }
  auto file = gguf::File::open(entry->path);
  if (!file) return 0;
  return s.manager.default_ctx(read_model_info(*file).context_length);
}

// Tokenizers of local models by file, for counting prompts in routing rules (loading one
// reads only the GGUF vocabulary). A few models at most: the cache is dropped when full.
std::shared_ptr<const tokenizer::Tokenizer> local_tokenizer(ServerState& s, const std::string& model) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const tokenizer::Tokenizer>> cache;
  if (model.empty()) return nullptr;
  auto entry = s.resolver.resolve(model);
  if (!entry) return nullptr;
  std::lock_guard lock(mu);
  auto it = cache.find(entry->path);
  if (it != cache.end()) return it->second;
  auto file = gguf::File::open(entry->path);
  if (!file) return nullptr;
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  if (!tok) return nullptr;
  if (cache.size() >= 4) cache.clear();
  return cache[entry->path] = std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok).value());
}

RouteRequest route_request(ServerState& s, const Router& r, const httplib::Request& req, ApiKind api,
                           router::ojson body) {
  RouteRequest rr;
  rr.api = api;
  rr.body = std::move(body);
  rr.hint = req.get_header_value("X-Sov-Route");
  rr.private_data = router::truthy(req.get_header_value("X-Sov-Private"));
  bool needs_context = false, needs_tokens = false;
  for (const auto& rule : r.config().rules) {
    needs_context = needs_context || rule.exceeds_local_context;
    needs_tokens = needs_tokens || rule.exceeds_local_context || rule.min_prompt_tokens;
  }
  const std::string requested = rr.body.value("model", "");
  const std::string model = requested == "auto" ? r.config().local.model : requested;
  if (needs_context && r.config().local.context == 0) rr.local_context = local_context(s, model);
  if (needs_tokens) {
    if (auto tok = local_tokenizer(s, model)) {
      rr.count_tokens = [tok](std::string_view text) {
        return static_cast<int64_t>(tok->encode(text, /*add_special=*/false, /*parse_special=*/false).size());
      };
    }
  }
  return rr;
}

// Runs the local handler with `model` in place of the request's model.
void run_local(const httplib::Request& req, httplib::Response& res, const httplib::Server::Handler& local,
               const router::ojson& body, const std::string& model) {
  if (body.value("model", "") == model) return local(req, res);
  httplib::Request copy = req;
  router::ojson changed = body;
  changed["model"] = model;
  copy.body = changed.dump(-1, ' ', false, router::ojson::error_handler_t::replace);
  local(copy, res);
}

// A local answer that failed before anything was streamed (overload, load failure).
bool local_failed(const httplib::Response& res) {
  return res.status >= 500 && !res.content_provider_;
}

// The context assumed for an upstream model when grounding a request for it (the passages
// get at most half of it, as for a local model).
constexpr int32_t kUpstreamContext = 8192;

// The request as an upstream receives it: a "knowledge" request is grounded here, on this
// machine (the retrieved passages go into the system message and are redacted like the
// rest of the request), and loses the field. Returns the sources (null without knowledge).
Result<json> ground_for_upstream(ServerState& s, RouteRequest* rr) {
  if (!rr->body.contains("knowledge") || rr->body["knowledge"].is_null()) return json();
  if (!rr->body.contains("messages") || !rr->body["messages"].is_array())
    return Status::invalid_argument("knowledge: only chat requests (with \"messages\") can be grounded");
  SOV_ASSIGN_OR_RETURN(auto knowledge, retrieve_knowledge(s, rr->body, rr->body["messages"]));
  rr->body.erase("knowledge");
  if (!knowledge) return json();
  // No tokenizer for a remote model: about four bytes per token.
  const kb::TokenCounter count = [](std::string_view text) {
    return static_cast<int32_t>(text.size() / 4 + 1);
  };
  const auto sources = ground_messages(*knowledge, kUpstreamContext, count, &rr->body["messages"]);
  return sources_json(sources, knowledge->hits);
}

// Sends `rr` to an upstream, grounded first (ground_for_upstream); `sources` gets its sources.
router::SendResult send_upstream(ServerState& s, const Router& r, RouteRequest rr,
                                 const router::Target& target, const std::string& rule, json* sources) {
  auto grounded = ground_for_upstream(s, &rr);
  if (!grounded) {
    router::SendResult failed;
    failed.status = http_status(grounded.status());
    failed.error = grounded.status().message();
    return failed;
  }
  *sources = std::move(grounded).value();
  return r.send(rr, target, rule);
}

// Sends an upstream answer: whole (with the knowledge-base `sources`, when there are any),
// or streamed chunk by chunk as it arrives.
void deliver(httplib::Response& res, std::unique_ptr<router::UpstreamResponse> up, std::shared_ptr<Router> r,
             const json& sources = json()) {
  if (!up->streaming()) {
    auto body = sources.is_null() ? json() : json::parse(up->body(), nullptr, false);
    if (!body.is_object()) return res.set_content(up->body(), up->content_type());
    body["sources"] = sources;
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), up->content_type());
    return;
  }
  std::shared_ptr<router::UpstreamResponse> shared(std::move(up));
  const std::string type = shared->content_type();
  res.set_chunked_content_provider(
      type,
      [shared, r](size_t, httplib::DataSink& sink) {
        std::string chunk;
        while (shared->next(&chunk)) {
          if (chunk.empty()) continue;
          if (!sink.write(chunk.data(), chunk.size())) {
            shared->cancel();
            return false;
          }
        }
        sink.done();
        return true;
      },
      [shared](bool success) {
        if (!success) shared->cancel();
      });
}

void handle(ServerState& s, const std::shared_ptr<Router>& r, const httplib::Server::Handler& local,
            const httplib::Request& req, httplib::Response& res, ApiKind api, router::ojson body) {
  RouteRequest rr = route_request(s, *r, req, api, std::move(body));
  const Decision d = r->decide(rr);
  r->count_decision(d.backend, d.rule);
  res.set_header("X-Sov-Route", d.header());
  if (d.refuse_status) return send_error(req, res, d.refuse_status, d.refuse_message);

  if (d.local()) {
    const auto headers = res.headers;
    const int timeout_ms = d.fallback ? r->config().local.first_token_timeout_ms : 0;
    if (timeout_ms > 0) {
      FirstEventDeadline deadline(Generation::Clock::now() + std::chrono::milliseconds(timeout_ms));
      run_local(req, res, local, rr.body, d.model);
    } else {
      run_local(req, res, local, rr.body, d.model);
    }
    if (!local_failed(res) || !d.fallback) return;
    const int local_status = res.status;
    const std::string local_error = res.body;
    json sources;
    auto up = send_upstream(s, *r, rr, *d.fallback, "fallback", &sources);
    if (!up.response) {
      res.body = local_error;  // the local error is the more useful one
      res.status = local_status;
      return;
    }
    r->count_fallback("local", d.fallback->backend);
    res.headers = headers;
    res.body.clear();
    res.status = 200;
    res.headers.erase("X-Sov-Route");
    res.set_header("X-Sov-Route", fmt::format("backend={}; model={}; rule=fallback; from=local",
                                              d.fallback->backend, d.fallback->model));
    return deliver(res, std::move(up.response), r, sources);
  }

  json sources;
  auto up = send_upstream(s, *r, rr, router::Target{d.backend, d.model}, d.rule, &sources);
  if (up.response) return deliver(res, std::move(up.response), r, sources);
  if (up.can_fall_back && d.fallback) {
    r->count_fallback(d.backend, d.fallback->backend);
    res.headers.erase("X-Sov-Route");
    res.set_header("X-Sov-Route", fmt::format("backend={}; model={}; rule=fallback; from={}",
                                              d.fallback->backend, d.fallback->model, d.backend));
    return run_local(req, res, local, rr.body, d.fallback->model);
  }
  send_error(req, res, up.status ? up.status : 502, up.error);
}

router::ojson redacted_config(const router::RouterConfig& c, const std::string& audit_path) {
  router::ojson backends = router::ojson::array();
  for (const auto& b : c.backends) {
    router::ojson aliases = router::ojson::object();
    for (const auto& [k, v] : b.aliases) aliases[k] = v;
    backends.push_back(
        {{"name", b.name},
         {"base_url", b.base_url},
         {"api_key_env", b.api_key_env},
         {"api_key_set", !b.api_key.empty()},
         {"model", b.model},
         {"models", b.models},
         {"aliases", aliases},
         {"capabilities", b.capabilities},
         {"allow_private", b.allow_private},
         {"fallback_local", b.fallback_local},
         {"retries", b.retries},
         {"price", {{"input", b.price.input_per_million}, {"output", b.price.output_per_million}}}});
  }
  router::ojson rules = router::ojson::array();
  for (const auto& rule : c.rules) {
    router::ojson j = {{"name", rule.name}, {"backend", rule.backend}};
    if (!rule.model.empty()) j["model"] = rule.model;
    if (rule.min_prompt_tokens) j["min_prompt_tokens"] = *rule.min_prompt_tokens;
    if (rule.exceeds_local_context) j["exceeds_local_context"] = true;
    if (!rule.needs.empty()) j["needs"] = rule.needs;
    if (!rule.keywords.empty()) j["keywords"] = rule.keywords;
    if (!rule.match.empty()) j["match"] = rule.match;
    if (!rule.hint.empty()) j["hint"] = rule.hint;
    rules.push_back(std::move(j));
  }
  router::ojson custom = router::ojson::array();
  for (const auto& cu : c.redaction.custom) custom.push_back(cu.name);
  return {{"enabled", true},
          {"source", c.source},
          {"offline", c.offline},
          {"default", c.default_backend},
          {"hints", c.honor_hints},
          {"local",
           {{"model", c.local.model},
            {"context", c.local.context},
            {"capabilities", c.local.capabilities},
            {"fallback", c.local.fallback},
            {"first_token_timeout_ms", c.local.first_token_timeout_ms}}},
          {"backends", backends},
          {"rules", rules},
          {"redaction",
           {{"enabled", c.redaction.enabled},
            {"builtin", c.redaction.builtin},
            {"custom", custom},
            {"restore", c.redaction.restore}}},
          {"audit_path", audit_path}};
}

}  // namespace

httplib::Server::Handler routed(ServerState& state, httplib::Server::Handler local) {
  return [&state, local = std::move(local)](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Router> r = state.config.router;
    ApiKind api;
    if (!r || !router::api_for_path(req.path, &api)) return local(req, res);
    if (json_nesting_exceeds(req.body, kMaxJsonDepth)) return local(req, res);  // it refuses
    auto body = router::ojson::parse(req.body, nullptr, false);
    // Malformed bodies are the local handler's to refuse, with its usual messages.
    if (body.is_discarded() || !body.is_object() || !body.contains("model") || !body["model"].is_string())
      return local(req, res);
    handle(state, r, local, req, res, api, std::move(body));
  };
}

void register_router_routes(HttpServer& http, ServerState& state) {
  http.Post("/api/route/explain", [&state](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Router> r = state.config.router;
    auto body = json_nesting_exceeds(req.body, kMaxJsonDepth)
                    ? router::ojson(router::ojson::value_t::discarded)
                    : router::ojson::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return send_ollama_error(res, 400,
                               "the body must be a JSON object: a generation request, plus \"api\"");
    // Which API the request would be sent to: "/v1/chat/completions" (default), ...
    ApiKind api = ApiKind::kOpenAIChat;
    const std::string path = body.value("api", "/v1/chat/completions");
    if (!router::api_for_path(path, &api))
      return send_ollama_error(
          res, 400, "\"api\" must be /v1/chat/completions, /v1/completions, /api/chat or /api/generate");
    body.erase("api");
    if (!body.contains("model") || !body["model"].is_string())
      return send_ollama_error(res, 400, "field \"model\" is required");
    if (!r) {
      return send_json(res, router::ojson{{"backend", "local"},
                                          {"model", body["model"]},
                                          {"rule", "no-router"},
                                          {"reason", "no routing config: everything runs locally"}});
    }
    RouteRequest rr = route_request(state, *r, req, api, std::move(body));
    const Decision d = r->decide(rr);
    router::ojson out = d.to_json();
    out["header"] = d.header();
    send_json(res, out);
  });
  http.Get("/api/route", [&state](const httplib::Request&, httplib::Response& res) {
    std::shared_ptr<Router> r = state.config.router;
    if (!r) return send_json(res, router::ojson{{"enabled", false}});
    send_json(res, redacted_config(r->config(), r->audit_path()));
  });
  http.Get("/api/audit", [&state](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Router> r = state.config.router;
    if (!r) return send_json(res, router::ojson{{"entries", router::ojson::array()}});
    int64_t since = 0;
    if (req.has_param("since")) {
      auto s = router::parse_since(req.get_param_value("since"), router::now_ms());
      if (!s) return send_ollama_error(res, 400, s.status().message());
      since = *s;
    }
    size_t limit = 1000;
    if (req.has_param("limit")) {
      const std::string l = req.get_param_value("limit");
      if (l.empty() || l.size() > 6 || l.find_first_not_of("0123456789") != std::string::npos)
        return send_ollama_error(res, 400, "limit must be an integer up to 999999");
      limit = std::stoul(l);
    }
    auto entries = r->audit().since(since, limit);
    if (!entries) return send_ollama_error(res, 500, entries.status().message());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *entries) list.push_back(e.to_json());
    send_json(res, nlohmann::json{{"entries", list}});
  });
}

}  // namespace sov::server
