#include "router/config.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "router/http_client.h"
#include "router/toml.h"

namespace sov::router {
namespace {

using toml::Value;

// Reads the keys of one table, remembering which were used so that unknown keys (typos)
// are reported.
class Reader {
 public:
  Reader(const Value& table, std::string where) : t_(table), where_(std::move(where)) {}

  Status error(const Value* v, const std::string& message) const {
    const int line = v ? v->line() : t_.line();
    return Status::invalid_argument(fmt::format("line {}: {}: {}", line, where_, message));
  }

  const Value* get(std::string_view key) {
    used_.insert(std::string(key));
    return t_.find(key);
  }

  Status str(std::string_view key, std::string* out) {
    const Value* v = get(key);
    if (!v) return Status::ok();
    if (!v->is_string()) return error(v, fmt::format("\"{}\" must be a string", key));
    *out = v->as_string();
    return Status::ok();
  }
  Status boolean(std::string_view key, bool* out) {
    const Value* v = get(key);
    if (!v) return Status::ok();
    if (!v->is_bool()) return error(v, fmt::format("\"{}\" must be true or false", key));
    *out = v->as_bool();
    return Status::ok();
  }
  Status integer(std::string_view key, int64_t lo, int64_t hi, int64_t* out) {
    const Value* v = get(key);
    if (!v) return Status::ok();
    if (!v->is_integer() || v->as_integer() < lo || v->as_integer() > hi)
      return error(v, fmt::format("\"{}\" must be an integer in [{}, {}]", key, lo, hi));
    *out = v->as_integer();
    return Status::ok();
  }
  Status integer(std::string_view key, int lo, int hi, int* out) {
    int64_t v = *out;
    SOV_RETURN_IF_ERROR(integer(key, int64_t{lo}, int64_t{hi}, &v));
    *out = static_cast<int>(v);
    return Status::ok();
  }
  Status number(std::string_view key, double* out) {
    const Value* v = get(key);
    if (!v) return Status::ok();
    if (!v->is_number() || v->as_number() < 0)
      return error(v, fmt::format("\"{}\" must be a number >= 0", key));
    *out = v->as_number();
    return Status::ok();
  }
  Status strings(std::string_view key, std::vector<std::string>* out) {
    const Value* v = get(key);
    if (!v) return Status::ok();
    if (!v->is_array()) return error(v, fmt::format("\"{}\" must be an array of strings", key));
    out->clear();
    for (const Value& item : v->items()) {
      if (!item.is_string()) return error(v, fmt::format("\"{}\" must be an array of strings", key));
      out->push_back(item.as_string());
    }
    return Status::ok();
  }
  // Every key was read.
  Status finish() const {
    for (size_t i = 0; i < t_.keys().size(); ++i) {
      if (!used_.count(t_.keys()[i])) {
        return error(&t_.values()[i], fmt::format("unknown key \"{}\"", t_.keys()[i]));
      }
    }
    return Status::ok();
  }

 private:
  const Value& t_;
  std::string where_;
  std::set<std::string> used_;
};

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  }
  return true;
}

bool valid_env_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

const std::set<std::string>& capability_names() {
  static const std::set<std::string> k = {"tools", "images"};
  return k;
}

Status check_capabilities(Reader& r, const Value* where, const std::vector<std::string>& caps) {
  for (const auto& c : caps) {
    if (!capability_names().count(c))
      return r.error(where, fmt::format("unknown capability \"{}\" (known: tools, images)", c));
  }
  return Status::ok();
}

Status read_backend(const Value& t, size_t index, const EnvFn& env, Backend* b) {
  Reader r(t, fmt::format("backends[{}]", index));
  SOV_RETURN_IF_ERROR(r.str("name", &b->name));
  if (!valid_name(b->name)) return r.error(nullptr, "\"name\" is required: letters, digits, '-', '_', '.'");
  if (b->name == kLocalBackend || b->name == "auto")
    return r.error(nullptr, fmt::format("\"{}\" is reserved; choose another backend name", b->name));
  Reader named(t, fmt::format("backend \"{}\"", b->name));
  if (const Value* v = named.get("api_key"))
    return named.error(
        v, "never put a key in this file: set \"api_key_env\" to the NAME of an environment variable");
  SOV_RETURN_IF_ERROR(named.str("base_url", &b->base_url));
  if (b->base_url.empty())
    return named.error(nullptr, "\"base_url\" is required (e.g. \"https://api.openai.com/v1\")");
  while (!b->base_url.empty() && b->base_url.back() == '/') b->base_url.pop_back();
  SOV_RETURN_IF_ERROR(named.boolean("allow_http", &b->allow_http));
  {
    const bool http = b->base_url.starts_with("http://");
    if (!http && !b->base_url.starts_with("https://"))
      return named.error(named.get("base_url"), "\"base_url\" must start with https:// or http://");
    if (http && !b->allow_http && !check_loopback_url(b->base_url).is_ok()) {
      return named.error(named.get("base_url"),
                         "plain http to a non-loopback host sends prompts unencrypted; use https or set "
                         "allow_http = true");
    }
  }
  SOV_RETURN_IF_ERROR(named.str("api_key_env", &b->api_key_env));
  if (!b->api_key_env.empty()) {
    if (!valid_env_name(b->api_key_env)) {
      return named.error(
          named.get("api_key_env"),
          "\"api_key_env\" is the NAME of an environment variable (like OPENAI_API_KEY), not the key");
    }
    if (env) b->api_key = env(b->api_key_env).value_or("");
  }
  SOV_RETURN_IF_ERROR(named.str("model", &b->model));
  SOV_RETURN_IF_ERROR(named.strings("models", &b->models));
  if (const Value* a = named.get("aliases")) {
    if (!a->is_table()) return named.error(a, "\"aliases\" must be a table like { smart = \"gpt-4o\" }");
    for (size_t i = 0; i < a->keys().size(); ++i) {
      if (!a->values()[i].is_string()) return named.error(a, "alias targets must be strings");
      b->aliases.emplace_back(a->keys()[i], a->values()[i].as_string());
    }
  }
  SOV_RETURN_IF_ERROR(named.strings("capabilities", &b->capabilities));
  SOV_RETURN_IF_ERROR(check_capabilities(named, named.get("capabilities"), b->capabilities));
  SOV_RETURN_IF_ERROR(named.integer("connect_timeout_ms", 1, 600000, &b->connect_timeout_ms));
  SOV_RETURN_IF_ERROR(named.integer("stall_timeout_ms", 1, 3600000, &b->stall_timeout_ms));
  SOV_RETURN_IF_ERROR(named.integer("timeout_ms", 0, 86400000, &b->timeout_ms));
  SOV_RETURN_IF_ERROR(named.integer("retries", 0, 10, &b->retries));
  SOV_RETURN_IF_ERROR(named.integer("backoff_ms", 0, 60000, &b->backoff_ms));
  if (const Value* p = named.get("price")) {
    if (!p->is_table())
      return named.error(p, "\"price\" must be a table like { input = 0.15, output = 0.60 }");
    Reader pr(*p, fmt::format("backend \"{}\" price", b->name));
    SOV_RETURN_IF_ERROR(pr.number("input", &b->price.input_per_million));
    SOV_RETURN_IF_ERROR(pr.number("output", &b->price.output_per_million));
    SOV_RETURN_IF_ERROR(pr.finish());
  }
  SOV_RETURN_IF_ERROR(named.boolean("allow_private", &b->allow_private));
  SOV_RETURN_IF_ERROR(named.boolean("fallback_local", &b->fallback_local));
  (void)named.get("name");
  return named.finish();
}

Status read_rule(const Value& t, size_t index, Rule* rule) {
  Reader r(t, fmt::format("rules[{}]", index));
  rule->line = t.line();
  SOV_RETURN_IF_ERROR(r.str("name", &rule->name));
  if (rule->name.empty()) rule->name = fmt::format("rule{}", index + 1);
  if (!valid_name(rule->name)) return r.error(r.get("name"), "rule names use letters, digits, '-', '_', '.'");
  SOV_RETURN_IF_ERROR(r.str("backend", &rule->backend));
  if (rule->backend.empty()) return r.error(nullptr, "\"backend\" is required");
  SOV_RETURN_IF_ERROR(r.str("model", &rule->model));
  int64_t min_tokens = -1;
  SOV_RETURN_IF_ERROR(r.integer("min_prompt_tokens", 0, int64_t{1} << 40, &min_tokens));
  if (min_tokens >= 0) rule->min_prompt_tokens = min_tokens;
  SOV_RETURN_IF_ERROR(r.boolean("exceeds_local_context", &rule->exceeds_local_context));
  SOV_RETURN_IF_ERROR(r.strings("needs", &rule->needs));
  SOV_RETURN_IF_ERROR(check_capabilities(r, r.get("needs"), rule->needs));
  SOV_RETURN_IF_ERROR(r.strings("keywords", &rule->keywords));
  SOV_RETURN_IF_ERROR(r.str("match", &rule->match));
  SOV_RETURN_IF_ERROR(r.str("hint", &rule->hint));
  SOV_RETURN_IF_ERROR(r.finish());
  if (!rule->min_prompt_tokens && !rule->exceeds_local_context && rule->needs.empty() &&
      rule->keywords.empty() && rule->match.empty() && rule->hint.empty()) {
    return r.error(
        nullptr,
        "a rule needs a condition (min_prompt_tokens, exceeds_local_context, needs, keywords, match "
        "or hint); use [routing] default for the catch-all");
  }
  return Status::ok();
}

const Value* array_of_tables(Reader& r, std::string_view key, Status* st) {
  const Value* v = r.get(key);
  if (v && (!v->is_array() || [&] {
        for (const Value& item : v->items())
          if (!item.is_table()) return true;
        return false;
      }())) {
    *st = r.error(v, fmt::format("\"{}\" must be written as [[{}]] tables", key, key));
  }
  return v;
}

}  // namespace

const Backend* RouterConfig::find_backend(std::string_view name) const {
  for (const auto& b : backends) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Result<RouterConfig> parse_config(std::string_view text, const EnvFn& env) {
  SOV_ASSIGN_OR_RETURN(Value root, toml::parse(text));
  RouterConfig c;
  Reader r(root, "config");
  SOV_RETURN_IF_ERROR(r.boolean("offline", &c.offline));

  if (const Value* routing = r.get("routing")) {
    if (!routing->is_table()) return r.error(routing, "\"routing\" must be a table");
    Reader rr(*routing, "[routing]");
    SOV_RETURN_IF_ERROR(rr.str("default", &c.default_backend));
    SOV_RETURN_IF_ERROR(rr.boolean("hints", &c.honor_hints));
    SOV_RETURN_IF_ERROR(rr.finish());
  }
  if (const Value* local = r.get("local")) {
    if (!local->is_table()) return r.error(local, "\"local\" must be a table");
    Reader lr(*local, "[local]");
    SOV_RETURN_IF_ERROR(lr.str("model", &c.local.model));
    SOV_RETURN_IF_ERROR(lr.integer("context", 0, int64_t{1} << 30, &c.local.context));
    SOV_RETURN_IF_ERROR(lr.strings("capabilities", &c.local.capabilities));
    SOV_RETURN_IF_ERROR(check_capabilities(lr, lr.get("capabilities"), c.local.capabilities));
    SOV_RETURN_IF_ERROR(lr.str("fallback", &c.local.fallback));
    SOV_RETURN_IF_ERROR(lr.integer("first_token_timeout_ms", 0, 3600000, &c.local.first_token_timeout_ms));
    SOV_RETURN_IF_ERROR(lr.finish());
  }
  Status st;
  if (const Value* bs = array_of_tables(r, "backends", &st); st.is_ok() && bs) {
    for (size_t i = 0; i < bs->items().size(); ++i) {
      Backend b;
      SOV_RETURN_IF_ERROR(read_backend(bs->items()[i], i, env, &b));
      if (c.find_backend(b.name))
        return Status::invalid_argument(
            fmt::format("line {}: backend \"{}\" is defined twice", bs->items()[i].line(), b.name));
      c.backends.push_back(std::move(b));
    }
  }
  SOV_RETURN_IF_ERROR(st);
  if (const Value* rules = array_of_tables(r, "rules", &st); st.is_ok() && rules) {
    for (size_t i = 0; i < rules->items().size(); ++i) {
      Rule rule;
      SOV_RETURN_IF_ERROR(read_rule(rules->items()[i], i, &rule));
      c.rules.push_back(std::move(rule));
    }
  }
  SOV_RETURN_IF_ERROR(st);
  if (const Value* red = r.get("redaction")) {
    if (!red->is_table()) return r.error(red, "\"redaction\" must be a table");
    Reader rr(*red, "[redaction]");
    SOV_RETURN_IF_ERROR(rr.boolean("enabled", &c.redaction.enabled));
    SOV_RETURN_IF_ERROR(rr.boolean("restore", &c.redaction.restore));
    SOV_RETURN_IF_ERROR(rr.strings("builtin", &c.redaction.builtin));
    for (const auto& k : c.redaction.builtin) {
      if (k != "email" && k != "phone" && k != "secret")
        return rr.error(rr.get("builtin"),
                        fmt::format("unknown built-in redaction \"{}\" (email, phone, secret)", k));
    }
    if (const Value* custom = array_of_tables(rr, "custom", &st); st.is_ok() && custom) {
      for (size_t i = 0; i < custom->items().size(); ++i) {
        Reader cr(custom->items()[i], fmt::format("redaction.custom[{}]", i));
        CustomRedaction cu;
        SOV_RETURN_IF_ERROR(cr.str("name", &cu.name));
        SOV_RETURN_IF_ERROR(cr.str("pattern", &cu.pattern));
        SOV_RETURN_IF_ERROR(cr.finish());
        if (!valid_name(cu.name) || cu.name.find('.') != std::string::npos)
          return cr.error(nullptr, "\"name\" is required: letters, digits, '-', '_'");
        if (cu.pattern.empty()) return cr.error(nullptr, "\"pattern\" is required");
        c.redaction.custom.push_back(std::move(cu));
      }
    }
    SOV_RETURN_IF_ERROR(st);
    SOV_RETURN_IF_ERROR(rr.finish());
  }
  if (const Value* audit = r.get("audit")) {
    if (!audit->is_table()) return r.error(audit, "\"audit\" must be a table");
    Reader ar(*audit, "[audit]");
    SOV_RETURN_IF_ERROR(ar.str("path", &c.audit_path));
    SOV_RETURN_IF_ERROR(ar.finish());
  }
  SOV_RETURN_IF_ERROR(r.finish());

  // Cross references.
  auto known = [&](const std::string& name) { return name == kLocalBackend || c.find_backend(name); };
  if (!known(c.default_backend))
    return Status::invalid_argument(
        fmt::format("[routing] default names unknown backend \"{}\"", c.default_backend));
  if (!c.local.fallback.empty() && !c.find_backend(c.local.fallback))
    return Status::invalid_argument(
        fmt::format("[local] fallback names unknown backend \"{}\"", c.local.fallback));
  for (const auto& rule : c.rules) {
    if (!known(rule.backend))
      return Status::invalid_argument(fmt::format("line {}: rule \"{}\" names unknown backend \"{}\"",
                                                  rule.line, rule.name, rule.backend));
  }
  return c;
}

Result<RouterConfig> load_config(const std::string& path, const EnvFn& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(fmt::format("{}: cannot open the config file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1u << 20))
    return Status::invalid_argument(path + ": the config file is larger than 1 MB");
  auto c = parse_config(ss.str(), env);
  if (!c) return c.status().with_context(path);
  c->source = path;
  return c;
}

std::string sov_home(const EnvFn& env) {
  if (auto h = env("SOV_HOME"); h && !h->empty()) return *h;
  return env("HOME").value_or(".") + "/.sovereign";
}

std::string default_config_path(const EnvFn& env) {
  if (auto p = env("SOV_CONFIG"); p && !p->empty()) return *p;
  return sov_home(env) + "/config.toml";
}

}  // namespace sov::router
