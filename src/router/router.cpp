#include "router/router.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "base/log.h"

namespace sov::router {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

double cost_of(const Backend& b, int64_t in, int64_t out) {
  return (static_cast<double>(in) * b.price.input_per_million +
          static_cast<double>(out) * b.price.output_per_million) /
         1e6;
}

std::string escape_label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The upstream's error message from an error body (OpenAI's {"error": {"message"}} or text).
std::string upstream_message(const std::string& body) {
  auto j = ojson::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const ojson& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  return body.substr(0, 300);
}

// A request is private when the client says so (`sov_private: true`, or the X-Sov-Private
// header the server maps to RouteRequest::private_data) or when it asks to be grounded in a
// knowledge base (the `knowledge` extension of the chat endpoints).
bool grounded_in_private_data(const nlohmann::json& body) {
  if (!body.is_object()) return false;
  auto it = body.find("sov_private");
  if (it != body.end() && it->is_boolean() && it->get<bool>()) return true;
  return body.contains("knowledge");
}

}  // namespace

struct Router::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() {
    if (code) pcre2_code_free(code);
  }
};

Result<std::shared_ptr<Router>> load_router(const std::string& path, const EnvFn& env) {
  std::string file = path;
  bool required = !file.empty();
  if (file.empty()) {
    if (auto p = env("SOV_CONFIG"); p && !p->empty()) {
      file = *p;
      required = true;
    } else {
      file = default_config_path(env);
    }
  }
  if (!required && !std::filesystem::exists(file)) return std::shared_ptr<Router>();
  SOV_ASSIGN_OR_RETURN(RouterConfig config, load_config(file, env));
  auto router = Router::create(std::move(config), sov_home(env));
  if (!router) return router.status().with_context(file);
  return router;
}

bool truthy(std::string_view v) {
  const std::string l = lower(std::string(v));
  return l == "1" || l == "true" || l == "yes";
}

std::string Decision::header() const {
  // Model names come from the client: keep header-breaking characters out.
  std::string m;
  for (char c : model) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && c != ';') m += c;
  }
  return fmt::format("backend={}; model={}; rule={}", backend, m.substr(0, 200), rule);
}

ojson Decision::to_json() const {
  ojson j = {{"backend", backend},
             {"model", model},
             {"rule", rule},
             {"reason", reason},
             {"skipped", skipped},
             {"prompt_tokens_estimate", facts.prompt_tokens},
             {"prompt_tokens_counted", facts.tokens_counted},
             {"needs", ojson::array()}};
  if (facts.has_images) j["needs"].push_back("images");
  if (facts.has_tools) j["needs"].push_back("tools");
  j["fallback"] =
      fallback ? ojson{{"backend", fallback->backend}, {"model", fallback->model}} : ojson(nullptr);
  if (refuse_status) j["refused"] = {{"status", refuse_status}, {"message", refuse_message}};
  return j;
}

Result<std::shared_ptr<Router>> Router::create(RouterConfig config, const std::string& home) {
  std::shared_ptr<Router> r(new Router());
  SOV_ASSIGN_OR_RETURN(Redactor red, Redactor::create(config.redaction));
  r->redactor_ = std::make_unique<Redactor>(std::move(red));
  for (const auto& rule : config.rules) {
    if (rule.match.empty()) {
      r->rule_regex_.push_back(nullptr);
      continue;
    }
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rule.match.data()), rule.match.size(),
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return Status::invalid_argument(fmt::format("line {}: rule \"{}\": invalid regex at offset {}: {}",
                                                  rule.line, rule.name, offset,
                                                  reinterpret_cast<const char*>(msg)));
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    auto c = std::make_unique<Compiled>();
    c->code = code;
    r->rule_regex_.push_back(std::move(c));
  }
  r->audit_path_ = config.audit_path.empty() ? home + "/audit.db" : config.audit_path;
  SOV_ASSIGN_OR_RETURN(r->audit_, AuditLog::open(r->audit_path_));
  for (const auto& b : config.backends) {
    if (!b.api_key_env.empty() && b.api_key.empty())
      log::warn("router: backend {}: environment variable {} is not set; requests go without a key", b.name,
                b.api_key_env);
  }
  r->config_ = std::move(config);
  return r;
}

bool Router::blocked(const Backend& b, const RouteRequest& r, std::string* why) const {
  if (r.private_data && !b.allow_private) {
    *why = fmt::format("backend \"{}\" may not receive private (knowledge-base) data (allow_private = false)",
                       b.name);
    return true;
  }
  if (config_.offline) {
    Status s = check_loopback_url(b.base_url);
    if (!s) {
      *why = fmt::format("offline mode: backend \"{}\" is not on this machine", b.name);
      return true;
    }
  }
  return false;
}

std::string Router::local_model(const RequestFacts& f) const {
  if (f.model != "auto" && !f.model.empty()) return f.model;
  return config_.local.model;
}

Target Router::upstream_target(const Backend& b, const std::string& model) const {
  return Target{b.name,
                model.empty() ? (b.model.empty() && !b.models.empty() ? b.models[0] : b.model) : model};
}

bool Router::rule_fires(size_t index, const RequestFacts& f, const RouteRequest& r, std::string* why) const {
  const Rule& rule = config_.rules[index];
  std::vector<std::string> reasons;
  if (rule.min_prompt_tokens) {
    if (f.prompt_tokens < *rule.min_prompt_tokens) return false;
    reasons.push_back(fmt::format("{}{} prompt tokens >= {}", f.tokens_counted ? "" : "about ",
                                  f.prompt_tokens, *rule.min_prompt_tokens));
  }
  if (rule.exceeds_local_context) {
    const int64_t ctx = config_.local.context > 0 ? config_.local.context : r.local_context;
    if (ctx <= 0 || f.prompt_tokens <= ctx) return false;
    reasons.push_back(fmt::format("{}{} prompt tokens exceed the local context of {}",
                                  f.tokens_counted ? "" : "about ", f.prompt_tokens, ctx));
  }
  for (const auto& need : rule.needs) {
    const bool wanted = (need == "images" && f.has_images) || (need == "tools" && f.has_tools);
    if (!wanted || has(config_.local.capabilities, need)) return false;
    reasons.push_back(fmt::format("the request needs {}, which the local backend lacks", need));
  }
  if (!rule.keywords.empty()) {
    const std::string text = lower(f.prompt);
    std::string found;
    for (const auto& k : rule.keywords) {
      if (!k.empty() && text.find(lower(k)) != std::string::npos) {
        found = k;
        break;
      }
    }
    if (found.empty()) return false;
    reasons.push_back(fmt::format("keyword \"{}\"", found));
  }
  if (rule_regex_[index]) {
    pcre2_code* code = rule_regex_[index]->code;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    const int rc =
        pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(f.prompt.data()), f.prompt.size(), 0, 0, md, nullptr);
    pcre2_match_data_free(md);
    if (rc < 0) return false;
    reasons.push_back("the prompt matches /" + rule.match + "/");
  }
  if (!rule.hint.empty()) {
    if (r.hint != rule.hint) return false;
    reasons.push_back(fmt::format("hint \"{}\"", rule.hint));
  }
  *why = fmt::format("rule \"{}\": ", rule.name);
  for (size_t i = 0; i < reasons.size(); ++i) *why += (i ? ", " : "") + reasons[i];
  return true;
}

Decision Router::decide(const RouteRequest& r) const {
  Decision d;
  d.facts = request_facts(r.api, r.body);
  if (r.count_tokens) {
    d.facts.prompt_tokens = r.count_tokens(d.facts.prompt);
    d.facts.tokens_counted = true;
  }
  RouteRequest req = r;
  if (req.hint.empty() && r.body.is_object() && r.body.contains("sov_route") &&
      r.body["sov_route"].is_string())
    req.hint = r.body["sov_route"].get<std::string>();
  req.private_data = req.private_data || grounded_in_private_data(r.body);
  const std::string& model = d.facts.model;

  // Where an upstream's failure goes: the local model, when allowed and known.
  auto local_fallback = [&](const Backend& b) -> std::optional<Target> {
    const std::string lm = config_.local.model;
    if (!b.fallback_local || lm.empty()) return std::nullopt;
    return Target{std::string(kLocalBackend), lm};
  };
  auto upstream_fallback = [&]() -> std::optional<Target> {
    if (config_.local.fallback.empty()) return std::nullopt;
    const Backend* b = config_.find_backend(config_.local.fallback);
    std::string why;
    if (!b || blocked(*b, req, &why)) return std::nullopt;
    return upstream_target(*b, "");
  };
  auto to_upstream = [&](const Backend& b, const std::string& m, std::string rule, std::string reason) {
    const Target t = upstream_target(b, m);
    d.backend = t.backend;
    d.model = t.model;
    d.rule = std::move(rule);
    d.reason = std::move(reason);
    d.fallback = local_fallback(b);
  };
  auto to_local = [&](std::string m, std::string rule, std::string reason) {
    d.backend = std::string(kLocalBackend);
    d.model = std::move(m);
    d.rule = std::move(rule);
    d.reason = std::move(reason);
    d.fallback = upstream_fallback();
  };

  if (model != "auto") {
    const Backend* target = nullptr;
    std::string upstream_model, rule, reason;
    if (const size_t slash = model.find('/'); slash != std::string::npos) {
      if (const Backend* b = config_.find_backend(model.substr(0, slash))) {
        target = b;
        upstream_model = model.substr(slash + 1);
        rule = "prefix";
        reason = fmt::format("the model name starts with \"{}/\"", b->name);
      }
    }
    for (const auto& b : config_.backends) {
      if (target) break;
      if (has(b.models, model)) {
        target = &b;
        upstream_model = model;
        rule = "model";
        reason = fmt::format("\"{}\" is a model of backend \"{}\"", model, b.name);
      }
      for (const auto& [alias, m] : b.aliases) {
        if (!target && alias == model) {
          target = &b;
          upstream_model = m;
          rule = "alias";
          reason = fmt::format("\"{}\" is an alias of {} on backend \"{}\"", alias, m, b.name);
        }
      }
    }
    if (!target) {
      to_local(model, "model", "a local model name");
      return d;
    }
    to_upstream(*target, upstream_model, rule, reason);
    std::string why;
    if (blocked(*target, req, &why)) {
      d.refuse_status = 403;
      d.refuse_message = "refused by the routing policy: " + why;
    }
    return d;
  }

  // model "auto": the hint, then the rules, then the default.
  auto try_backend = [&](const std::string& name, const std::string& m, const std::string& rule,
                         const std::string& reason) -> bool {
    if (name == kLocalBackend) {
      if (config_.local.model.empty()) {
        d.skipped.push_back(rule + ": [local] model is not set, so \"auto\" cannot run locally");
        return false;
      }
      to_local(m.empty() ? config_.local.model : m, rule, reason);
      return true;
    }
    const Backend* b = config_.find_backend(name);
    if (!b) {
      d.skipped.push_back(fmt::format("{}: no backend named \"{}\"", rule, name));
      return false;
    }
    std::string why;
    if (blocked(*b, req, &why)) {
      d.skipped.push_back(rule + ": " + why);
      return false;
    }
    to_upstream(*b, m, rule, reason);
    return true;
  };

  if (config_.honor_hints && !req.hint.empty()) {
    const bool names_backend = req.hint == kLocalBackend || config_.find_backend(req.hint);
    if (names_backend &&
        try_backend(req.hint, "", "hint", fmt::format("the request asked for \"{}\"", req.hint)))
      return d;
  }
  for (size_t i = 0; i < config_.rules.size(); ++i) {
    std::string why;
    if (!rule_fires(i, d.facts, req, &why)) continue;
    const Rule& rule = config_.rules[i];
    if (try_backend(rule.backend, rule.model, rule.name, why)) return d;
  }
  if (try_backend(config_.default_backend, "", "default", "no rule fired")) return d;
  // The default is barred (or unset): stay local when possible, else refuse.
  if (!config_.local.model.empty()) {
    to_local(config_.local.model, "default", "the default backend is not allowed for this request");
    return d;
  }
  d.backend = std::string(kLocalBackend);
  d.rule = "none";
  d.refuse_status = 400;
  d.refuse_message =
      "model \"auto\" found no backend: set [local] model in the config file or allow an upstream for this "
      "request";
  return d;
}

void Router::count_decision(const std::string& backend, const std::string& rule) const {
  std::lock_guard lock(stats_mu_);
  ++decisions_[{backend, rule}];
}

void Router::count_fallback(const std::string& from, const std::string& to) const {
  std::lock_guard lock(stats_mu_);
  ++fallbacks_[{from, to}];
}

void Router::record(const AuditEntry& e, const Backend* b) const {
  if (Status s = audit_->record(e); !s) log::error("router: {}", s.message());
  std::lock_guard lock(stats_mu_);
  BackendStats& st = stats_[e.backend];
  ++st.requests;
  if (!e.error.empty()) ++st.errors;
  st.prompt_tokens += static_cast<uint64_t>(std::max<int64_t>(0, e.prompt_tokens));
  st.completion_tokens += static_cast<uint64_t>(std::max<int64_t>(0, e.completion_tokens));
  st.latency_sum += static_cast<double>(e.latency_ms) / 1000.0;
  st.cost += e.cost_usd;
  (void)b;
}

std::string Router::render_metrics() const {
  std::lock_guard lock(stats_mu_);
  std::string out;
  out += "# HELP sov_router_decisions_total Routing decisions by backend and rule.\n";
  out += "# TYPE sov_router_decisions_total counter\n";
  for (const auto& [k, n] : decisions_)
    out += fmt::format("sov_router_decisions_total{{backend=\"{}\",rule=\"{}\"}} {}\n", escape_label(k.first),
                       escape_label(k.second), n);
  out += "# HELP sov_router_fallbacks_total Requests moved to another backend after a failure.\n";
  out += "# TYPE sov_router_fallbacks_total counter\n";
  for (const auto& [k, n] : fallbacks_)
    out += fmt::format("sov_router_fallbacks_total{{from=\"{}\",to=\"{}\"}} {}\n", escape_label(k.first),
                       escape_label(k.second), n);
  auto per_backend = [&](const char* name, const char* type, const char* help, auto field) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& [b, s] : stats_)
      out += fmt::format("{}{{backend=\"{}\"}} {}\n", name, escape_label(b), field(s));
  };
  per_backend("sov_upstream_requests_total", "counter", "Upstream attempts that sent a request.",
              [](const BackendStats& s) { return fmt::format("{}", s.requests); });
  per_backend("sov_upstream_errors_total", "counter", "Upstream attempts that failed.",
              [](const BackendStats& s) { return fmt::format("{}", s.errors); });
  per_backend("sov_upstream_prompt_tokens_total", "counter", "Prompt tokens sent upstream.",
              [](const BackendStats& s) { return fmt::format("{}", s.prompt_tokens); });
  per_backend("sov_upstream_completion_tokens_total", "counter", "Completion tokens received from upstreams.",
              [](const BackendStats& s) { return fmt::format("{}", s.completion_tokens); });
  per_backend("sov_upstream_cost_usd_total", "counter", "Estimated cost in USD (from the configured prices).",
              [](const BackendStats& s) { return fmt::format("{:.6f}", s.cost); });
  out += "# HELP sov_upstream_latency_seconds Time per upstream attempt (streams: until the last byte).\n";
  out += "# TYPE sov_upstream_latency_seconds summary\n";
  for (const auto& [b, s] : stats_) {
    out += fmt::format("sov_upstream_latency_seconds_sum{{backend=\"{}\"}} {:.6f}\n", escape_label(b),
                       s.latency_sum);
    out +=
        fmt::format("sov_upstream_latency_seconds_count{{backend=\"{}\"}} {}\n", escape_label(b), s.requests);
  }
  return out;
}

SendResult Router::send(const RouteRequest& request, const Target& target, const std::string& rule) const {
  SendResult result;
  const Backend* b = config_.find_backend(target.backend);
  if (!b) {
    result.status = 400;
    result.error = fmt::format("no upstream named \"{}\"", target.backend);
    return result;
  }
  std::string why;
  RouteRequest req = request;
  req.private_data = req.private_data || grounded_in_private_data(req.body);
  if (blocked(*b, req, &why)) {
    result.status = 403;
    result.error = "refused by the routing policy: " + why;
    return result;
  }
  auto redaction = std::make_shared<Redaction>();
  auto up = to_upstream(request.api, request.body, target.model, *redactor_, redaction.get());
  if (!up) {
    result.status = 400;
    result.error = up.status().message();
    return result;
  }
  // With restore = false the answer keeps the placeholders: restore through an empty table.
  const std::shared_ptr<Redaction> restorer =
      config_.redaction.restore ? redaction : std::make_shared<Redaction>();
  const RequestFacts facts = request_facts(request.api, request.body);
  const std::string body = up->body.dump(-1, ' ', false, ojson::error_handler_t::replace);

  HttpCall call;
  call.url = b->base_url + up->path;
  call.body = body;
  call.headers = {"Content-Type: application/json",
                  facts.stream ? "Accept: text/event-stream" : "Accept: application/json"};
  if (!b->api_key.empty()) call.headers.push_back("Authorization: Bearer " + b->api_key);
  call.connect_timeout_ms = b->connect_timeout_ms;
  call.stall_timeout_ms = b->stall_timeout_ms;
  call.total_timeout_ms = facts.stream ? 0 : b->timeout_ms;
  call.offline = config_.offline;

  AuditEntry base;
  base.backend = b->name;
  base.model = target.model;
  base.api = api_name(request.api);
  base.rule = rule;
  base.stream = facts.stream;
  base.redactions = redaction->counts();  // kinds and counts, never values

  std::string last_error;
  int last_status = 502;
  const int attempts = 1 + std::max(0, b->retries);
  int retry_after_ms = -1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      int wait = b->backoff_ms << std::min(attempt - 1, 10);
      if (retry_after_ms >= 0) wait = std::min(retry_after_ms, 10000);
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      retry_after_ms = -1;
    }
    const auto start = Clock::now();
    AuditEntry e = base;
    e.time_ms = now_ms();
    bool sent = false;
    auto opened = HttpStream::open(call, &sent);
    auto elapsed_ms = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    };
    if (!opened) {
      last_error = opened.status().message();
      if (sent) {
        e.error = last_error;
        e.latency_ms = elapsed_ms();
        e.prompt_tokens = facts.prompt_tokens;
        e.tokens_estimated = true;
        record(e, b);
      }
      if (opened.status().code() == ErrorCode::kUnsupported ||
          opened.status().code() == ErrorCode::kInvalidArgument) {
        result.status = 403;
        result.error = last_error;
        return result;  // a policy refusal or a bad URL: retrying cannot help
      }
      last_status = 502;
      continue;
    }
    std::unique_ptr<HttpStream> stream = std::move(opened).value();
    const long status = stream->status();
    if (status < 200 || status >= 300) {
      auto err_body = stream->read_all(64 << 10);
      last_error = fmt::format("backend \"{}\" answered {}: {}", b->name, status,
                               upstream_message(err_body ? *err_body : std::string()));
      e.status = static_cast<int>(status);
      e.error = last_error;
      e.latency_ms = elapsed_ms();
      e.prompt_tokens = facts.prompt_tokens;
      e.tokens_estimated = true;
      record(e, b);
      if (status == 429 || status >= 500) {
        last_status = status == 429 ? 429 : 502;
        const std::string ra = stream->header("retry-after");
        if (!ra.empty() && ra.find_first_not_of("0123456789") == std::string::npos && ra.size() < 6)
          retry_after_ms = std::stoi(ra) * 1000;
        continue;
      }
      result.status = static_cast<int>(status);  // a client error: pass it on, no fallback
      result.error = last_error;
      return result;
    }
    // Success (2xx).
    auto response = std::unique_ptr<UpstreamResponse>(new UpstreamResponse());
    response->router_ = this;
    response->backend_ = b;
    response->redaction_ = restorer;
    response->start_ = start;
    e.status = static_cast<int>(status);
    response->audit_ = e;
    if (facts.stream) {
      const bool openai = request.api == ApiKind::kOpenAIChat || request.api == ApiKind::kOpenAICompletions;
      response->content_type_ = openai ? "text/event-stream" : "application/x-ndjson";
      response->translator_ =
          std::make_unique<StreamTranslator>(request.api, restorer.get(), facts.wants_usage);
      response->stream_ = std::move(stream);
      response->audit_.prompt_tokens = facts.prompt_tokens;
      result.response = std::move(response);
      return result;
    }
    auto text = stream->read_all();
    ojson answer = text ? ojson::parse(*text, nullptr, false) : ojson();
    Usage usage;
    Result<ojson> client =
        text ? (answer.is_discarded()
                    ? Result<ojson>(Status::corrupt("the upstream answer is not JSON"))
                    : from_upstream(request.api, answer, *restorer, elapsed_ms() * 1000000, &usage))
             : Result<ojson>(text.status());
    if (!client) {
      last_error = fmt::format("backend \"{}\": {}", b->name, client.status().message());
      response->audit_.error = last_error;
      response->audit_.latency_ms = elapsed_ms();
      response->audit_.prompt_tokens = facts.prompt_tokens;
      response->audit_.tokens_estimated = true;
      record(response->audit_, b);
      response->recorded_ = true;
      last_status = 502;
      continue;
    }
    response->audit_.prompt_tokens = usage.reported ? usage.prompt_tokens : facts.prompt_tokens;
    response->audit_.completion_tokens = usage.completion_tokens;
    response->audit_.tokens_estimated = !usage.reported;
    response->audit_.cost_usd =
        cost_of(*b, response->audit_.prompt_tokens, response->audit_.completion_tokens);
    response->audit_.latency_ms = elapsed_ms();
    record(response->audit_, b);
    response->recorded_ = true;
    response->content_type_ = "application/json";
    response->body_ = client->dump(-1, ' ', false, ojson::error_handler_t::replace);
    result.response = std::move(response);
    return result;
  }
  result.status = last_status;
  result.error = fmt::format("upstream \"{}\" failed after {} attempt(s): {}", b->name, attempts, last_error);
  result.can_fall_back = true;
  return result;
}

UpstreamResponse::~UpstreamResponse() {
  if (!recorded_) finish(ended_ ? "" : "the client went away before the end of the stream");
}

void UpstreamResponse::cancel() {
  if (stream_) stream_->cancel();
}

void UpstreamResponse::finish(const std::string& error) {
  if (recorded_ || !router_) return;
  recorded_ = true;
  if (translator_) {
    const Usage& u = translator_->usage();
    if (u.reported) {
      audit_.prompt_tokens = u.prompt_tokens;
      audit_.completion_tokens = u.completion_tokens;
    } else {
      audit_.completion_tokens = static_cast<int64_t>((translator_->text_bytes() + 3) / 4);
      audit_.tokens_estimated = true;
    }
  }
  audit_.error = error;
  audit_.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  audit_.cost_usd = cost_of(*backend_, audit_.prompt_tokens, audit_.completion_tokens);
  router_->record(audit_, backend_);
}

bool UpstreamResponse::next(std::string* out) {
  out->clear();
  if (ended_ || !stream_) return false;
  const auto elapsed_ns = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
  };
  while (out->empty()) {
    std::string chunk;
    auto more = stream_->read(&chunk);
    if (!more) {
      *out = translator_->on_error(more.status().message());
      ended_ = true;
      finish(more.status().message());
      return true;
    }
    if (!*more) {
      *out = translator_->on_end(elapsed_ns());
      ended_ = true;
      finish("");
      return !out->empty();
    }
    for (const std::string& data : sse_.push(chunk)) {
      auto piece = translator_->on_event(data);
      if (!piece) {
        *out += translator_->on_error(piece.status().message());
        ended_ = true;
        stream_->cancel();
        finish(piece.status().message());
        return true;
      }
      *out += *piece;
    }
  }
  return true;
}

}  // namespace sov::router
