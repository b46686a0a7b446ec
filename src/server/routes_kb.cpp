// Knowledge-base routes (/api/kb), over src/kb:
//
//   GET    /api/kb                       {"knowledge_bases": [{"name", "documents", "chunks", "bytes",
//   "embed_model"}]} POST   /api/kb                       {"name", "embed_model"?} -> the new base's status
//   GET    /api/kb/{name}                status: counts, embedding model, "progress" of a running
//                                        writer, and "job" (the last background add: state,
//                                        summary or error)
//   DELETE /api/kb/{name}                409 while a background add runs
//   POST   /api/kb/{name}/documents      {"paths": [...], "wait": false} indexes files/folders on
//                                        this machine in the background (202; watch GET status),
//                                        or in the request with "wait": true; and/or
//                                        {"documents": [{"name", "text"}]} indexes raw text now
//   POST   /api/kb/{name}/query          {"query", "k"?, "mode"?, "path"?, "after"?, "before"?,
//                                        "mmr"?} -> {"results": [{"path", "lines", "score",
//                                        "text", "heading"}]}
//
// Errors use Ollama's {"error": "..."} shape. Names are validated (they become folder names).
// Embeddings go through the model manager and its compute gate (kb_embedder.h); each
// request opens its own SQLite connection.
// Background jobs (one per base) are cancelled and joined when the server goes away.
#include "server/routes_kb.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "kb/indexer.h"
#include "kb/knowledge_base.h"
#include "kb/registry.h"
#include "kb/retrieve.h"
#include "server/http_util.h"
#include "server/kb_embedder.h"
#include "server/server.h"

namespace sov::server {
namespace {

struct Job {
  std::thread thread;
  std::atomic<bool> cancel{false};
  std::atomic<bool> running{false};
  std::mutex mutex;  // guards the fields below
  kb::AddProgress progress;
  std::optional<kb::AddSummary> summary;
  std::string error;
};

class KbService {
 public:
  explicit KbService(ServerState& state) : state_(state), root_(state.config.kb_root) {}
  ~KbService() {
    std::lock_guard lock(mutex_);
    for (auto& [name, job] : jobs_) job->cancel = true;
    for (auto& [name, job] : jobs_)
      if (job->thread.joinable()) job->thread.join();
  }

  const std::string& root() const { return root_; }

  Result<std::unique_ptr<kb::KnowledgeBase>> open(const std::string& name) {
    if (root_.empty()) return Status::unsupported("knowledge bases are not configured on this server");
    SOV_ASSIGN_OR_RETURN(std::string dir, kb::kb_dir(root_, name));
    auto base = kb::KnowledgeBase::open(dir);
    if (!base && base.status().code() == ErrorCode::kNotFound)
      return Status::not_found(fmt::format("knowledge base \"{}\" not found", name));
    return base;
  }

  // The base's embedding model (kb_embedder.h); null for keyword-only bases.
  Result<std::shared_ptr<kb::Embedder>> embedder(const std::string& model) {
    return kb_embedder(state_, local_embedders_, model);
  }

  std::shared_ptr<Job> job(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(name);
    return it == jobs_.end() ? nullptr : it->second;
  }

  // Starts indexing `paths` into base `name` in the background; fails when one runs.
  Status start_add(const std::string& name, std::vector<std::string> paths) {
    std::lock_guard lock(mutex_);
    auto& slot = jobs_[name];
    if (slot && slot->running) return Status::resource_exhausted("an add is already running for this base");
    if (slot && slot->thread.joinable()) slot->thread.join();
    slot = std::make_shared<Job>();
    std::shared_ptr<Job> job = slot;
    job->running = true;
    job->thread = std::thread([this, job, name, paths = std::move(paths)] {
      auto fail = [&](const Status& s) {
        std::lock_guard l(job->mutex);
        job->error = s.message();
      };
      auto base = open(name);
      if (!base) {
        fail(base.status());
      } else if (auto e = embedder((*base)->settings().embed_model); !e) {
        fail(e.status());
      } else {
        kb::AddOptions options;
        options.cancelled = [job] { return job->cancel.load(); };
        options.progress = [job](const kb::AddProgress& p) {
          std::lock_guard l(job->mutex);
          job->progress = p;
        };
        Status stale = *e ? kb::embed_stale(**base, **e, options).status() : Status::ok();
        if (!stale) {
          fail(stale);
        } else {
          auto sum = kb::add_paths(**base, paths, e->get(), options);
          if (!sum) {
            fail(sum.status());
          } else {
            std::lock_guard l(job->mutex);
            job->summary = std::move(sum).value();
          }
        }
      }
      job->running = false;
    });
    return Status::ok();
  }

  bool busy(const std::string& name) {
    auto j = job(name);
    return j && j->running;
  }

 private:
  ServerState& state_;
  std::string root_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  LocalEmbedders local_embedders_;
};

json summary_json(const kb::AddSummary& s) {
  json skipped = json::array();
  for (const auto& k : s.skipped) skipped.push_back({{"path", k.path}, {"reason", k.reason}});
  return {{"added", s.added},         {"updated", s.updated}, {"renamed", s.renamed}, {"removed", s.removed},
          {"unchanged", s.unchanged}, {"chunks", s.chunks},   {"skipped", skipped}};
}

Result<json> status_json(KbService& svc, const std::string& name) {
  SOV_ASSIGN_OR_RETURN(auto base, svc.open(name));
  SOV_ASSIGN_OR_RETURN(kb::KbStatus st, base->status());
  json j = {{"name", name},
            {"embed_model", st.settings.embed_model},
            {"embed_dim", st.embed_dim},
            {"documents", st.documents},
            {"chunks", st.chunks},
            {"chunks_embedded", st.chunks_embedded},
            {"bytes", st.bytes},
            {"progress", nullptr},
            {"job", nullptr}};
  if (st.progress && st.progress->running)
    j["progress"] = {
        {"phase", st.progress->phase}, {"done", st.progress->done}, {"total", st.progress->total}};
  if (auto job = svc.job(name)) {
    std::lock_guard l(job->mutex);
    json jj = {{"state", job->running ? "running" : (job->error.empty() ? "done" : "failed")}};
    if (job->running)
      jj["progress"] = {{"phase", job->progress.phase},
                        {"done", job->progress.done},
                        {"total", job->progress.total},
                        {"path", job->progress.path}};
    if (job->summary) jj["summary"] = summary_json(*job->summary);
    if (!job->error.empty()) jj["error"] = job->error;
    j["job"] = jj;
  }
  return j;
}

void list(KbService& svc, httplib::Response& res) {
  json out = json::array();
  for (const std::string& name : kb::list_kbs(svc.root())) {
    auto base = svc.open(name);
    if (!base) continue;
    auto st = (*base)->status();
    if (!st) continue;
    out.push_back({{"name", name},
                   {"documents", st->documents},
                   {"chunks", st->chunks},
                   {"bytes", st->bytes},
                   {"embed_model", st->settings.embed_model}});
  }
  send_json(res, json{{"knowledge_bases", out}});
}

void create(KbService& svc, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  auto name = get_string(*body, "name");
  auto model = get_string(*body, "embed_model");
  if (!name) return send_ollama_error(res, name.status());
  if (!model) return send_ollama_error(res, model.status());
  if (!*name) return send_ollama_error(res, 400, "name is required");
  if (svc.root().empty())
    return send_ollama_error(res, 503, "knowledge bases are not configured on this server");
  auto dir = kb::kb_dir(svc.root(), **name);
  if (!dir) return send_ollama_error(res, dir.status());
  if (kb::KnowledgeBase::open(*dir))
    return send_ollama_error(res, 409, fmt::format("knowledge base \"{}\" already exists", **name));
  std::shared_ptr<kb::Embedder> embedder;
  if (*model && !(*model)->empty()) {
    auto e = svc.embedder(**model);
    if (!e) return send_ollama_error(res, 400, e.status().message());
    embedder = *e;
  }
  kb::KbSettings settings;
  settings.embed_model = model->value_or("");
  auto base = kb::KnowledgeBase::create(*dir, settings);
  if (!base) return send_ollama_error(res, base.status());
  if (embedder) {
    Status s = (*base)->set_embed_model(settings.embed_model, embedder->dim());
    if (!s) return send_ollama_error(res, s);
  }
  auto st = status_json(svc, **name);
  if (!st) return send_ollama_error(res, st.status());
  send_json(res, *st);
}

void remove(KbService& svc, const std::string& name, httplib::Response& res) {
  if (Status v = kb::validate_kb_name(name); !v) return send_ollama_error(res, v);
  if (svc.busy(name))
    return send_ollama_error(res, 409, "an add is running for this base; try again when it ends");
  if (svc.root().empty())
    return send_ollama_error(res, 503, "knowledge bases are not configured on this server");
  Status s = kb::remove_kb(svc.root(), name);
  if (!s) return send_ollama_error(res, s);
  send_json(res, json::object());
}

void add_documents(KbService& svc, const std::string& name, const httplib::Request& req,
                   httplib::Response& res) {
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  auto paths = get_array(*body, "paths");
  auto docs = get_array(*body, "documents");
  auto wait = get_bool(*body, "wait");
  if (!paths) return send_ollama_error(res, paths.status());
  if (!docs) return send_ollama_error(res, docs.status());
  if (!wait) return send_ollama_error(res, wait.status());
  if (!*paths && !*docs) return send_ollama_error(res, 400, "give \"paths\" and/or \"documents\"");
  std::vector<std::string> path_list;
  if (*paths) {
    for (const auto& p : **paths) {
      if (!p.is_string() || p.get<std::string>().empty())
        return send_ollama_error(res, 400, "paths must be strings");
      path_list.push_back(p.get<std::string>());
    }
  }
  auto base = svc.open(name);
  if (!base) return send_ollama_error(res, base.status());
  auto embedder = svc.embedder((*base)->settings().embed_model);
  if (!embedder) return send_ollama_error(res, embedder.status());
  kb::AddSummary total;
  if (*docs) {
    for (const auto& d : **docs) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string() || !d.contains("text") ||
          !d["text"].is_string())
        return send_ollama_error(res, 400, "each document needs a string \"name\" and \"text\"");
      const std::string doc_name = d["name"].get<std::string>();
      if (doc_name.empty() || doc_name.size() > 256)
        return send_ollama_error(res, 400, "document names are 1-256 bytes");
      auto s = kb::add_text(**base, doc_name, d["text"].get<std::string>(), embedder->get());
      if (!s) return send_ollama_error(res, s.status());
      total.added += s->added;
      total.updated += s->updated;
      total.unchanged += s->unchanged;
      total.chunks += s->chunks;
    }
  }
  if (path_list.empty()) return send_json(res, json{{"status", "done"}, {"summary", summary_json(total)}});
  if (wait->value_or(false)) {
    if (svc.busy(name)) return send_ollama_error(res, 409, "an add is already running for this base");
    auto s = kb::add_paths(**base, path_list, embedder->get());
    if (!s) return send_ollama_error(res, s.status());
    s->added += total.added;
    s->updated += total.updated;
    s->chunks += total.chunks;
    return send_json(res, json{{"status", "done"}, {"summary", summary_json(*s)}});
  }
  Status started = svc.start_add(name, std::move(path_list));
  if (!started) return send_ollama_error(res, 409, started.message());
  send_json(res, json{{"status", "started"}}, 202);
}

void query(KbService& svc, const std::string& name, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  auto text = get_string(*body, "query");
  auto k = get_int(*body, "k", 1, 1000);
  auto mode = get_string(*body, "mode");
  auto path = get_string(*body, "path");
  auto after = get_int(*body, "after", INT64_MIN / 2000000000, INT64_MAX / 2000000000);
  auto before = get_int(*body, "before", INT64_MIN / 2000000000, INT64_MAX / 2000000000);
  auto mmr = get_bool(*body, "mmr");
  for (const Status* s : {&text.status(), &k.status(), &mode.status(), &path.status(), &after.status(),
                          &before.status(), &mmr.status()})
    if (!s->is_ok()) return send_ollama_error(res, *s);
  if (!*text) return send_ollama_error(res, 400, "query is required");
  kb::SearchQuery q;
  q.text = **text;
  q.k = static_cast<int32_t>(k->value_or(5));
  q.path_glob = path->value_or("");
  q.modified_after = *after;
  q.modified_before = *before;
  q.mmr = mmr->value_or(false);
  if (*mode) {
    auto m = kb::parse_search_mode(**mode);
    if (!m) return send_ollama_error(res, m.status());
    q.mode = *m;
  }
  auto base = svc.open(name);
  if (!base) return send_ollama_error(res, base.status());
  std::shared_ptr<kb::Embedder> embedder;
  if (q.mode != kb::SearchMode::kKeyword) {
    auto e = svc.embedder((*base)->settings().embed_model);
    if (!e) return send_ollama_error(res, e.status());
    embedder = *e;
  }
  auto hits = kb::search(**base, q, embedder.get());
  if (!hits) return send_ollama_error(res, hits.status());
  json results = json::array();
  for (const auto& h : *hits)
    results.push_back({{"path", h.path},
                       {"lines", {h.line_first, h.line_last}},
                       {"score", h.score},
                       {"text", h.text},
                       {"heading", h.heading}});
  send_json(res, json{{"results", results}});
}

// The service of each server, for the chat routes' "knowledge" field.
std::mutex g_services_mutex;
std::map<const ServerState*, std::weak_ptr<KbService>> g_services;

std::shared_ptr<KbService> service_of(const ServerState& state) {
  std::lock_guard lock(g_services_mutex);
  auto it = g_services.find(&state);
  return it == g_services.end() ? nullptr : it->second.lock();
}

// The text of a message's content: a string, or the text parts of an array.
std::string content_text(const ojson& message) {
  auto it = message.find("content");
  if (it == message.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  std::string out;
  if (it->is_array())
    for (const auto& part : *it)
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
          part["text"].is_string())
        out += (out.empty() ? "" : "\n") + part["text"].get<std::string>();
  return out;
}

}  // namespace

Result<std::optional<KnowledgeRequest>> retrieve_knowledge(ServerState& state, const ojson& body,
                                                           const ojson& messages) {
  auto field = body.find("knowledge");
  if (field == body.end() || field->is_null()) return std::optional<KnowledgeRequest>();
  if (!field->is_object())
    return Status::invalid_argument("field \"knowledge\" must be an object like {\"base\": NAME}");
  const ojson& k = *field;
  for (const auto& [key, value] : k.items())
    if (key != "base" && key != "k" && key != "mode" && key != "path" && key != "budget")
      return Status::invalid_argument(fmt::format("knowledge: unknown field \"{}\"", key));
  SOV_ASSIGN_OR_RETURN(auto base, get_string(k, "base"));
  SOV_ASSIGN_OR_RETURN(auto top_k, get_int(k, "k", 1, 50));
  SOV_ASSIGN_OR_RETURN(auto mode, get_string(k, "mode"));
  SOV_ASSIGN_OR_RETURN(auto path, get_string(k, "path"));
  SOV_ASSIGN_OR_RETURN(auto budget, get_int(k, "budget", 1, 1 << 20));
  if (!base || base->empty()) return Status::invalid_argument("knowledge: field \"base\" is required");
  SOV_RETURN_IF_ERROR(kb::validate_kb_name(*base));
  KnowledgeRequest out;
  out.base = *base;
  out.budget = static_cast<int32_t>(budget.value_or(0));
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->is_object() && it->value("role", "") == "user") {
      out.question = content_text(*it);
      break;
    }
  if (out.question.empty())
    return Status::invalid_argument("knowledge: the request needs a user message to search with");
  kb::SearchQuery q;
  q.text = out.question;
  q.k = static_cast<int32_t>(top_k.value_or(5));
  q.path_glob = path.value_or("");
  if (mode) {
    auto m = kb::parse_search_mode(*mode);
    if (!m) return Status::invalid_argument("knowledge: " + m.status().message());
    q.mode = *m;
  }
  auto svc = service_of(state);
  if (!svc) return Status::unsupported("knowledge bases are not configured on this server");
  SOV_ASSIGN_OR_RETURN(auto kb_base, svc->open(out.base));
  std::shared_ptr<kb::Embedder> embedder;
  if (q.mode != kb::SearchMode::kKeyword) {
    SOV_ASSIGN_OR_RETURN(embedder, svc->embedder(kb_base->settings().embed_model));
  }
  SOV_ASSIGN_OR_RETURN(out.hits, kb::search(*kb_base, q, embedder.get()));
  return std::optional<KnowledgeRequest>(std::move(out));
}

std::vector<kb::Source> ground_messages(const KnowledgeRequest& request, int32_t n_ctx,
                                        const kb::TokenCounter& count_tokens, ojson* messages) {
  int32_t budget = request.budget > 0 ? request.budget : std::clamp(n_ctx / 2, 64, 2048);
  kb::GroundedPrompt p = kb::build_grounded_prompt(request.question, request.hits, budget, count_tokens);
  // One system message first: chat templates often accept no other position.
  if (!messages->empty() && (*messages)[0].is_object() && (*messages)[0].value("role", "") == "system" &&
      (*messages)[0].contains("content") && (*messages)[0]["content"].is_string()) {
    std::string own = (*messages)[0]["content"].get<std::string>();
    (*messages)[0]["content"] = own.empty() ? p.system : own + "\n\n" + p.system;
  } else {
    messages->insert(messages->begin(), ojson{{"role", "system"}, {"content", p.system}});
  }
  return p.sources;
}

json sources_json(const std::vector<kb::Source>& sources, const std::vector<kb::SearchHit>& hits) {
  json out = json::array();
  for (const kb::Source& s : sources) {
    // The score of the best hit that went into this (possibly merged) source.
    double score = 0;
    for (const kb::SearchHit& h : hits)
      if (h.path == s.path && h.line_first <= s.line_last && h.line_last >= s.line_first) {
        score = h.score;
        break;
      }
    out.push_back({{"index", s.number},
                   {"path", s.path},
                   {"lines", {s.line_first, s.line_last}},
                   {"heading", s.heading},
                   {"score", score}});
  }
  return out;
}

json apply_knowledge(const std::optional<KnowledgeRequest>& request, const Runner& runner, ojson* messages) {
  if (!request) return json();
  kb::TokenCounter count;
  if (runner.tokenizer)
    count = [tok = runner.tokenizer](std::string_view text) {
      return static_cast<int32_t>(tok->encode(text, false, false).size());
    };
  return sources_json(ground_messages(*request, runner.n_ctx, count, messages), request->hits);
}

void register_kb_routes(HttpServer& http, ServerState& state) {
  auto svc = std::make_shared<KbService>(state);
  {
    std::lock_guard lock(g_services_mutex);
    std::erase_if(g_services, [](const auto& e) { return e.second.expired(); });
    g_services[&state] = svc;
  }
  http.Get("/api/kb", [svc](const httplib::Request&, httplib::Response& res) { list(*svc, res); });
  http.Post("/api/kb",
            [svc](const httplib::Request& req, httplib::Response& res) { create(*svc, req, res); });
  http.Get(R"(/api/kb/([^/]+))", [svc](const httplib::Request& req, httplib::Response& res) {
    auto st = status_json(*svc, req.matches[1]);
    if (!st) return send_ollama_error(res, st.status());
    send_json(res, *st);
  });
  http.Delete(R"(/api/kb/([^/]+))", [svc](const httplib::Request& req, httplib::Response& res) {
    remove(*svc, req.matches[1], res);
  });
  http.Post(R"(/api/kb/([^/]+)/documents)", [svc](const httplib::Request& req, httplib::Response& res) {
    add_documents(*svc, req.matches[1], req, res);
  });
  http.Post(R"(/api/kb/([^/]+)/query)", [svc](const httplib::Request& req, httplib::Response& res) {
    query(*svc, req.matches[1], req, res);
  });
}

}  // namespace sov::server
