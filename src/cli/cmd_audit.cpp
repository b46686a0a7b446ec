// `sov audit [--since DURATION|DATE] [--json] [--config FILE]`: what left this machine — every
// request the router sent to an upstream, from the audit log ($SOV_HOME/audit.db, or the
// config file's [audit] path): time, backend, model, rule, status, tokens, redactions (kinds
// and counts), estimated cost. Read-only; works while `sov serve` runs.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "router/audit.h"
#include "router/config.h"
#include "server/config.h"

namespace sov::cli {
namespace {

struct AuditOptions {
  std::string since;
  bool json = false;
  std::string config_file;
};

// The audit log the server writes: the config's [audit] path, else <home>/audit.db.
Result<std::string> audit_path(const AuditOptions& o, const router::EnvFn& env) {
  std::string file = o.config_file;
  bool required = !file.empty();
  if (file.empty()) {
    if (auto p = env("SOV_CONFIG"); p && !p->empty()) {
      file = *p;
      required = true;
    } else {
      file = router::default_config_path(env);
    }
  }
  if (required || std::filesystem::exists(file)) {
    SOV_ASSIGN_OR_RETURN(router::RouterConfig c, router::load_config(file, env));
    if (!c.audit_path.empty()) return c.audit_path;
  }
  return router::sov_home(env) + "/audit.db";
}

std::string redactions_text(const std::map<std::string, int>& r) {
  if (r.empty()) return "-";
  std::string out;
  for (const auto& [kind, n] : r) out += fmt::format("{}{}={}", out.empty() ? "" : ",", kind, n);
  return out;
}

int run_audit(const AuditOptions& o) {
  const router::EnvFn env = server::process_env();
  auto path = audit_path(o, env);
  if (!path) return fail(path.status().message());
  int64_t since = 0;
  if (!o.since.empty()) {
    auto s = router::parse_since(o.since, router::now_ms());
    if (!s) return fail(s.status().message());
    since = *s;
  }
  std::vector<router::AuditEntry> entries;
  auto log = router::AuditLog::open_read_only(*path);
  if (log) {
    auto e = (*log)->since(since, 1000000);
    if (!e) return fail(e.status().message());
    entries = std::move(e).value();
  } else if (log.status().code() != ErrorCode::kNotFound) {
    return fail(log.status().message());
  }
  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : entries) out.push_back(e.to_json());
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (entries.empty()) {
    std::printf("No requests have left this machine%s (audit log: %s).\n",
                o.since.empty() ? "" : (" since " + o.since).c_str(), path->c_str());
    return 0;
  }
  std::printf("%-24s  %-12s  %-20s  %-14s  %6s  %13s  %-22s  %10s\n", "TIME", "BACKEND", "MODEL", "RULE",
              "STATUS", "TOKENS IN/OUT", "REDACTIONS", "COST USD");
  int64_t in = 0, out = 0;
  double cost = 0;
  for (const auto& e : entries) {
    const std::string tokens =
        fmt::format("{}/{}{}", e.prompt_tokens, e.completion_tokens, e.tokens_estimated ? "~" : "");
    const std::string status = e.status ? std::to_string(e.status) : "-";
    std::printf("%-24s  %-12s  %-20s  %-14s  %6s  %13s  %-22s  %10.6f%s\n",
                router::format_time_ms(e.time_ms).c_str(), e.backend.c_str(), e.model.c_str(), e.rule.c_str(),
                status.c_str(), tokens.c_str(), redactions_text(e.redactions).c_str(), e.cost_usd,
                e.error.empty() ? "" : "  (failed)");
    in += e.prompt_tokens;
    out += e.completion_tokens;
    cost += e.cost_usd;
  }
  std::printf(
      "%zu request(s); %lld prompt and %lld completion tokens; estimated cost $%.6f (~: estimated counts)\n",
      entries.size(), static_cast<long long>(in), static_cast<long long>(out), cost);
  return 0;
}

SOV_REGISTER_COMMAND(audit, Command{"audit", "Show what left this machine (the routing audit log)",
                                    [](CLI::App& sub) -> std::function<int()> {
                                      auto o = std::make_shared<AuditOptions>();
                                      sub.add_option("--since", o->since,
                                                     "only entries newer than a duration (30m, 24h, 7d) or a "
                                                     "date (YYYY-MM-DD[THH:MM:SS], UTC)");
                                      sub.add_flag("--json", o->json, "print JSON");
                                      sub.add_option("--config", o->config_file,
                                                     "routing config file (SOV_CONFIG; default "
                                                     "~/.sovereign/config.toml)");
                                      return [o] { return run_audit(*o); };
                                    }});

}  // namespace
}  // namespace sov::cli
