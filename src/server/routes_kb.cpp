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
// Embedding models are loaded once and shared; each request opens its own SQLite connection.
// Background jobs (one per base) are cancelled and joined when the server goes away.
#include <fmt/format.h>

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
#include "server/server.h"
#include "store/config.h"

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
  explicit KbService(std::string root) : root_(std::move(root)) {}
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

  // The base's embedding model, loaded once per model; null for keyword-only bases.
  Result<std::shared_ptr<kb::Embedder>> embedder(const std::string& model) {
    if (model.empty()) return std::shared_ptr<kb::Embedder>();
    std::lock_guard lock(embed_mutex_);
    auto it = embedders_.find(model);
    if (it != embedders_.end()) return it->second;
    SOV_ASSIGN_OR_RETURN(auto loaded, kb::load_embedder(model, store::process_environment()));
    std::shared_ptr<kb::Embedder> shared(std::move(loaded));
    embedders_[model] = shared;
    return shared;
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
  std::string root_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::mutex embed_mutex_;
  std::map<std::string, std::shared_ptr<kb::Embedder>> embedders_;
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

}  // namespace

void register_kb_routes(httplib::Server& http, ServerState& state) {
  auto svc = std::make_shared<KbService>(state.config.kb_root);
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
