// RouterConfig: the hybrid-routing part of ~/.sovereign/config.toml (docs/router.md is the
// reference): the local backend, OpenAI-compatible upstreams, routing rules, redaction
// rules, offline mode and the audit log's location.
//
// The file never holds an API key: an upstream names the environment variable that holds
// it (api_key_env); load_config() resolves those through the EnvLookup it is given, once at
// start-up, so nothing deeper reads the environment. Unknown keys, wrong types and rules that
// name unknown backends are errors with the file's line number, so a typo cannot silently
// turn a privacy setting off.
//
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sov::router {

inline constexpr std::string_view kLocalBackend = "local";

struct Price {
  double input_per_million = 0;   // USD per million prompt tokens
  double output_per_million = 0;  // USD per million completion tokens
};

// An OpenAI-compatible upstream (OpenAI, another Sovereign, Ollama's /v1, vLLM, ...).
struct Backend {
  std::string name;
  std::string base_url;             // ".../v1": requests go to <base_url>/chat/completions
  std::string api_key_env;          // the NAME of the variable holding the key ("" : no key)
  std::string api_key;              // resolved at load; never logged or shown
  std::string model;                // the upstream model `auto` routes use
  std::vector<std::string> models;  // names forwarded as they are
  std::vector<std::pair<std::string, std::string>> aliases;  // client name -> upstream model
  std::vector<std::string> capabilities = {"tools", "images"};
  int connect_timeout_ms = 5000;
  int stall_timeout_ms = 60000;  // no byte for this long: the attempt failed
  int timeout_ms = 600000;       // whole request; 0: no limit
  int retries = 2;               // extra attempts on unreachable / 429 / 5xx
  int backoff_ms = 250;          // doubles per retry (Retry-After is honoured up to 10 s)
  Price price;
  bool allow_private = false;  // may receive requests grounded in a private knowledge base
  bool fallback_local = true;  // serve locally when this upstream fails
  bool allow_http = false;     // plain http to a non-loopback host
};

struct LocalBackend {
  std::string model;    // the local model `auto` routes use ("" : the request's default)
  int64_t context = 0;  // tokens; 0: the model's own context as the server runs it
  std::vector<std::string> capabilities = {"tools"};
  std::string fallback;  // upstream serving local failures (queue full, load errors); "" none
  // With a fallback: the local model must start answering (first token) within this long,
  // else the request goes to the fallback; 0: no limit.
  int first_token_timeout_ms = 0;
};

// One routing rule: every condition that is set must hold. Rules are tried in order.
struct Rule {
  std::string name;
  std::string backend;  // "local" or an upstream
  std::string model;    // "" : the backend's default model
  std::optional<int64_t> min_prompt_tokens;
  bool exceeds_local_context = false;
  std::vector<std::string> needs;     // capabilities the local backend lacks: "images", "tools"
  std::vector<std::string> keywords;  // any of them, case-insensitive, in the prompt
  std::string match;                  // a PCRE2 regex searched in the prompt
  std::string hint;                   // the request's hint (X-Sov-Route / sov_route) equals this
  int line = 0;
};

struct CustomRedaction {
  std::string name;     // the placeholder kind, e.g. "ticket" -> «TICKET_1»
  std::string pattern;  // PCRE2; group 1, when present, is the part replaced
};

struct RedactionConfig {
  bool enabled = true;
  std::vector<std::string> builtin = {"email", "phone", "secret"};
  std::vector<CustomRedaction> custom;
  bool restore = true;  // put the original values back into answers
};

struct RouterConfig {
  bool offline = false;
  bool honor_hints = true;                // X-Sov-Route / "sov_route" pick a backend by name
  std::string default_backend = "local";  // for `auto` when no rule fires
  LocalBackend local;
  std::vector<Backend> backends;
  std::vector<Rule> rules;
  RedactionConfig redaction;
  std::string audit_path;  // "" : <home>/audit.db
  std::string source;      // the file it came from, for messages

  const Backend* find_backend(std::string_view name) const;
};

using EnvFn = std::function<std::optional<std::string>(const std::string& name)>;

// Parses the TOML text. `env` resolves api_key_env (a missing variable is not an error
// here: requests to that backend fail with a message naming it).
Result<RouterConfig> parse_config(std::string_view text, const EnvFn& env);

// Reads and parses a file; errors are prefixed with its path.
Result<RouterConfig> load_config(const std::string& path, const EnvFn& env);

// The default config path: $SOV_CONFIG, else <home>/config.toml where home is $SOV_HOME or
// $HOME/.sovereign.
std::string default_config_path(const EnvFn& env);
// $SOV_HOME or $HOME/.sovereign.
std::string sov_home(const EnvFn& env);

}  // namespace sov::router
