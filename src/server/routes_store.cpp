// Model store routes (Ollama's API): POST /api/pull and POST /api/create (NDJSON progress,
// or one object with "stream": false), HEAD and POST /api/blobs/:digest, POST /api/push
// (not supported: 501). /api/tags, /api/show, /api/copy and /api/delete are in
// routes_models.cpp.
//
// Names and digests are validated (store::parse_model_name, store::Digest::parse) before
// the store touches the file system. A blob upload streams into a temporary file while its
// SHA-256 is computed and appears in the store only when it matches the digest in the path.
// A client that disconnects from a progress stream cancels the pull or create (a pull keeps
// its partial download for a resume).
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "server/http_util.h"
#include "server/server.h"
#include "store/store.h"

namespace sov::server {
namespace {

using Operation = std::function<Status(const store::ProgressFn&, const std::atomic<bool>* cancel)>;

ojson progress_json(const store::Progress& p) {
  ojson j{{"status", p.status}};
  if (!p.digest.empty()) {
    j["digest"] = p.digest;
    j["total"] = p.total;
    j["completed"] = p.completed;
  } else if (p.total > 0) {
    j["total"] = p.total;
    j["completed"] = p.completed;
  }
  return j;
}

std::string ndjson_line(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

// Progress events between the worker thread and the response writer. Consecutive byte
// counts of one layer are coalesced, so a slow client never holds the download back.
class ProgressQueue {
 public:
  void push(const store::Progress& p) {
    std::lock_guard lock(mu_);
    if (!events_.empty() && !p.digest.empty() && events_.back().digest == p.digest &&
        events_.back().status == p.status) {
      events_.back() = p;
    } else {
      events_.push_back(p);
    }
    cv_.notify_all();
  }
  void finish(Status status) {
    std::lock_guard lock(mu_);
    result_ = std::move(status);
    done_ = true;
    cv_.notify_all();
  }
  // The next event; false once the operation ended and every event was taken.
  bool pop(store::Progress* out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !events_.empty() || done_; });
    if (events_.empty()) return false;
    *out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  Status result() {
    std::lock_guard lock(mu_);
    return result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<store::Progress> events_;
  bool done_ = false;
  Status result_;
};

// Runs `op` and answers with its progress: an NDJSON stream ending in {"status": "success"}
// or {"error": ...}, or (stream false) one final object or an error status.
void run_with_progress(httplib::Response& res, bool stream, Operation op) {
  if (!stream) {
    std::atomic<bool> cancel{false};
    Status s = op(nullptr, &cancel);
    if (!s) return send_ollama_error(res, s);
    return send_json(res, json{{"status", "success"}});
  }
  struct Shared {
    ProgressQueue queue;
    std::atomic<bool> cancel{false};
    std::thread worker;
    ~Shared() {
      cancel = true;
      if (worker.joinable()) worker.join();
    }
  };
  auto shared = std::make_shared<Shared>();
  shared->worker = std::thread([raw = shared.get(), op = std::move(op)] {
    Status s = op([raw](const store::Progress& p) { raw->queue.push(p); }, &raw->cancel);
    raw->queue.finish(std::move(s));
  });
  res.set_chunked_content_provider("application/x-ndjson", [shared](size_t, httplib::DataSink& sink) {
    store::Progress p;
    while (shared->queue.pop(&p)) {
      // "success" is written once, after the operation returned ok.
      if (p.status == "success") continue;
      std::string line = ndjson_line(progress_json(p));
      if (!sink.write(line.data(), line.size())) {
        shared->cancel = true;  // the client left
        return false;
      }
    }
    Status s = shared->queue.result();
    std::string last = ndjson_line(s ? ojson{{"status", "success"}} : ojson{{"error", s.message()}});
    sink.write(last.data(), last.size());
    sink.done();
    return true;
  });
}

store::Store* store_of(ServerState& s, httplib::Response& res) {
  store::Store* st = s.resolver.store();
  if (!st) send_ollama_error(res, 501, "this server has no model store");
  return st;
}

// "model", or the older "name".
Result<std::string> name_field(const ojson& body) {
  SOV_ASSIGN_OR_RETURN(auto model, get_string(body, "model"));
  if (!model) {
    SOV_ASSIGN_OR_RETURN(model, get_string(body, "name"));
  }
  if (!model || model->empty()) return Status::invalid_argument("field \"model\" is required");
  SOV_RETURN_IF_ERROR(store::parse_model_name(*model).status());
  return *model;
}

void pull(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  store::Store* st = store_of(s, res);
  if (!st) return;
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  auto name = name_field(*body);
  if (!name) return send_ollama_error(res, name.status());
  auto insecure = get_bool(*body, "insecure");
  if (!insecure) return send_ollama_error(res, insecure.status());
  auto stream = get_bool(*body, "stream");
  if (!stream) return send_ollama_error(res, stream.status());
  store::PullOptions options;
  options.insecure = insecure->value_or(false);
  run_with_progress(
      res, stream->value_or(true),
      [st, model = *name, options](const store::ProgressFn& progress, const std::atomic<bool>* cancel) {
        Status r = st->pull(model, options, progress, cancel);
        if (!r) log::warn("pull {}: {}", model, r.message());
        return r;
      });
}

// Ollama's "license": a string or a list of strings.
Result<std::optional<std::vector<std::string>>> licenses_field(const ojson& body) {
  auto it = body.find("license");
  if (it == body.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& l : *it) {
      if (!l.is_string()) return Status::invalid_argument("field \"license\" must be a string or strings");
      out.push_back(l.get<std::string>());
    }
  } else {
    return Status::invalid_argument("field \"license\" must be a string or strings");
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::vector<store::ChatMessage>> messages_field(const ojson& messages) {
  std::vector<store::ChatMessage> out;
  for (const auto& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        (m.contains("content") && !m["content"].is_string())) {
      return Status::invalid_argument("each message needs a string \"role\" and \"content\"");
    }
    out.push_back({m["role"].get<std::string>(), m.value("content", "")});
  }
  return out;
}

// The request of /api/create: Ollama's current fields, or the legacy "modelfile" text.
Result<store::CreateRequest> create_request(const ojson& body) {
  store::CreateRequest r;
  SOV_ASSIGN_OR_RETURN(auto modelfile, get_string(body, "modelfile"));
  SOV_ASSIGN_OR_RETURN(auto from, get_string(body, "from"));
  SOV_ASSIGN_OR_RETURN(auto files, get_object(body, "files"));
  SOV_ASSIGN_OR_RETURN(auto adapters, get_object(body, "adapters"));
  if (adapters && !adapters->empty()) {
    return Status::unsupported("\"adapters\" (LoRA) are not supported");
  }
  if (modelfile) {
    SOV_ASSIGN_OR_RETURN(store::Modelfile mf, store::parse_modelfile(*modelfile));
    SOV_ASSIGN_OR_RETURN(r, store::create_request_from_modelfile(mf, ""));
    // Older clients upload the file and write "FROM @sha256:<hex>".
    if (r.from.starts_with("@")) {
      SOV_ASSIGN_OR_RETURN(r.from_blob, store::Digest::parse(std::string_view(r.from).substr(1)));
      r.from.clear();
    }
  }
  if (from && !from->empty()) r.from = *from;
  if (files && !files->empty()) {
    if (files->size() != 1) {
      return Status::unsupported(
          "\"files\" must name exactly one GGUF file (safetensors folders cannot be imported)");
    }
    // Not `*files->items().begin()`: that binds to a temporary iterator (use after scope).
    const auto entry = files->begin();
    const std::string& file = entry.key();
    const ojson& digest = entry.value();
    if (!digest.is_string()) return Status::invalid_argument("\"files\" values must be digests");
    SOV_ASSIGN_OR_RETURN(r.from_blob, store::Digest::parse(digest.get<std::string>()));
    if (!file.ends_with(".gguf")) {
      return Status::unsupported(fmt::format("\"files\": {} is not a .gguf file", file.substr(0, 80)));
    }
    if (!r.from.empty()) return Status::invalid_argument("give either \"from\" or \"files\", not both");
  }
  if (r.from.empty() && r.from_blob.empty()) {
    return Status::invalid_argument(
        "field \"from\" (a model name) or \"files\" (an uploaded GGUF) is required");
  }
  r.allow_paths = false;  // network clients upload files through /api/blobs
  SOV_ASSIGN_OR_RETURN(auto tmpl, get_string(body, "template"));
  if (tmpl) r.template_text = *tmpl;
  SOV_ASSIGN_OR_RETURN(auto system, get_string(body, "system"));
  if (system) r.system = *system;
  SOV_ASSIGN_OR_RETURN(auto params, get_object(body, "parameters"));
  if (params) r.params = *params;
  SOV_ASSIGN_OR_RETURN(auto messages, get_array(body, "messages"));
  if (messages) {
    SOV_ASSIGN_OR_RETURN(r.messages, messages_field(*messages));
  }
  SOV_ASSIGN_OR_RETURN(auto licenses, licenses_field(body));
  if (licenses) r.licenses = *licenses;
  SOV_ASSIGN_OR_RETURN(auto quantize, get_string(body, "quantize"));
  if (!quantize) {
    SOV_ASSIGN_OR_RETURN(quantize, get_string(body, "quantization"));
  }
  if (quantize) r.quantize = *quantize;
  return r;
}

void create(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  store::Store* st = store_of(s, res);
  if (!st) return;
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  auto name = name_field(*body);
  if (!name) return send_ollama_error(res, name.status());
  auto request = create_request(*body);
  if (!request) return send_ollama_error(res, request.status());
  // A named source must be a store name: network clients never name a path.
  if (!request->from.empty()) {
    if (auto parsed = store::parse_model_name(request->from); !parsed) {
      return send_ollama_error(res, 400, fmt::format("\"from\": {}", parsed.status().message()));
    }
    // A loose GGUF file of the models folder (or a --model file) is imported by its path,
    // which the resolver found for this validated name.
    if (auto entry = s.resolver.resolve(request->from); entry && !entry->from_store) {
      request->from = entry->path;
      request->allow_paths = true;
    }
  }
  auto stream = get_bool(*body, "stream");
  if (!stream) return send_ollama_error(res, stream.status());
  run_with_progress(res, stream->value_or(true),
                    [st, model = *name, r = std::move(request).value()](const store::ProgressFn& progress,
                                                                        const std::atomic<bool>* cancel) {
                      return st->create(model, r, progress, cancel);
                    });
}

void head_blob(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  store::Store* st = store_of(s, res);
  if (!st) return;
  auto digest = store::Digest::parse(req.matches[1].str());
  if (!digest) return send_ollama_error(res, 400, digest.status().message());
  res.status = st->has_blob(*digest) ? 200 : 404;
}

void post_blob(ServerState& s, HttpServer& http, const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader& reader) {
  store::Store* st = store_of(s, res);
  if (!st) return;
  auto digest = store::Digest::parse(req.matches[1].str());
  if (!digest) return send_ollama_error(res, 400, digest.status().message());
  auto writer = st->begin_blob();
  if (!writer) return send_ollama_error(res, writer.status());
  // A client trickling its upload would hold a connection thread (http_server.h): after the
  // grace period the upload must average kMinBodyRate.
  const auto start = std::chrono::steady_clock::now();
  const auto grace = std::chrono::milliseconds(s.config.header_timeout_ms);
  uint64_t received = 0;
  Status write_status;
  const bool read_ok = reader([&](const char* data, size_t n) {
    received += n;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (elapsed > grace &&
        received < kMinBodyRate * static_cast<uint64_t>(
                                      std::chrono::duration_cast<std::chrono::seconds>(elapsed).count())) {
      write_status = Status::invalid_argument(
          fmt::format("the upload is too slow (under {} KiB/s); it was stopped", kMinBodyRate / 1024));
      return false;
    }
    write_status = (*writer)->write(data, n);
    return write_status.is_ok();
  });
  if (!write_status) {
    http.close_after_response();  // the rest of the body is unread
    return send_ollama_error(res, write_status);
  }
  if (!read_ok) return send_ollama_error(res, 400, "the upload was interrupted");
  auto committed = (*writer)->commit(*digest);
  if (!committed) {
    // A mismatch is the client's fault; the writer removed the temporary file.
    const bool mismatch = committed.status().code() == ErrorCode::kCorrupt;
    return send_ollama_error(res, mismatch ? 400 : http_status(committed.status()),
                             committed.status().message());
  }
  res.status = 201;
}

}  // namespace

void register_store_routes(HttpServer& http, ServerState& state) {
  http.Post("/api/pull",
            [&state](const httplib::Request& req, httplib::Response& res) { pull(state, req, res); });
  http.Post("/api/create",
            [&state](const httplib::Request& req, httplib::Response& res) { create(state, req, res); });
  // The digest pattern admits anything up to '/', so that a malformed digest gets a 400
  // from Digest::parse rather than a 404 from the router.
  http.Get(R"(/api/blobs/([^/]+))",
           [&state](const httplib::Request& req, httplib::Response& res) { head_blob(state, req, res); });
  http.Post(R"(/api/blobs/([^/]+))", [&state, &http](const httplib::Request& req, httplib::Response& res,
                                                     const httplib::ContentReader& reader) {
    post_blob(state, http, req, res, reader);
  });
  http.Post("/api/push", [](const httplib::Request&, httplib::Response& res) {
    send_ollama_error(res, 501, "push is not supported by this server: models stay on this machine");
  });
}

}  // namespace sov::server
